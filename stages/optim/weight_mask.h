#pragma once
// Masks over the weights for the sparse SAM variants (FSAM, SSAM): which entries the ascent
// perturbs, chosen from an empirical Fisher information or other per-entry scores.
#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "stages/optim/neighbourhood.h"

namespace gda {

class StepContext;

/// Empirical diagonal Fisher Σ_i (∇l_i)² over the first n samples of the batch (at most its
/// size), one single-sample forward/backward each, in eval mode so BatchNorm statistics stay.
/// Leaves each .grad at the last sample's gradient: callers that need theirs save it first.
Tensors empirical_fisher(StepContext& ctx, const Tensors& params, std::int64_t n);

/// All entries of `ts` in one flat vector, tensor after tensor.
torch::Tensor flatten(const Tensors& ts);

/// A flat vector cut back into tensors shaped like `like`.
Tensors unflatten(const torch::Tensor& flat, const Tensors& like);

/// A flat 0/1 vector with 1 on the k largest entries of `scores` (k clamped to its size).
torch::Tensor top_entries(const torch::Tensor& scores, std::int64_t k);

/// SAM's ascent restricted to the mask: e = rho·g/(||g|| + 1e-7) ⊙ mask, the norm over all
/// entries (masked or not), as both papers' code.
Tensors masked_ascent(const Tensors& g, const Tensors& mask, double rho);

}  // namespace gda
