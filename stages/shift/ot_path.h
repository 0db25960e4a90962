#pragma once
// GOAT's generated domains (He et al. 2023, "Gradual Domain Adaptation: Theory and
// Algorithms"): between two given domains, encoded by the frozen encoder, the optimal
// transport plan's entries (i, j) give the samples (1 − t)·z_i + t·z_j of a domain at t,
// each weighted by the mass the plan moves from i to j. The generator (ot_path.cpp) makes
// them inside the adaptation loop (ShiftGenerator::segment).
#include <torch/types.h>

#include <string>

#include "core/choice.h"
#include "datasets/dataset.h"
#include "stages/shift/optimal_transport.h"

namespace gda {

/// How a transport plan is solved (shift.solver): exactly, or entropically in the log domain.
enum class Solver { emd, sinkhorn };
const Choice<Solver>& solver_choice();

struct TransportSettings {
  Solver solver = Solver::emd;
  /// Sinkhorn's regularisation as a fraction of the cost matrix's mean, so that one value
  /// suits features of any scale.
  double sinkhorn_reg = 0.05;
  /// Plan entries below entry_cutoff / (n·m), the mass of an entry of the uniform plan, are
  /// dropped (GOAT's entry_cutoff); 0 keeps every nonzero entry.
  double entry_cutoff = 0.0;
};

/// The plan between the rows of zs (n × d) and zt (m × d): squared Euclidean cost, uniform
/// masses 1/n and 1/m, solved as `s` says, small entries dropped. Throws UserError when a
/// domain is empty, or when Sinkhorn's plan would make more than 50·(n + m) samples (raise
/// entry_cutoff).
TransportPlan feature_plan(const torch::Tensor& zs, const torch::Tensor& zt, const TransportSettings& s);

/// The domain at t: one sample (1 − t)·zs[i] + t·zt[j] per plan entry, weighted by its mass,
/// labelled ys[i] (for the pseudo-label accuracy report only; ys may be undefined).
Domain pushforward(const torch::Tensor& zs, const torch::Tensor& ys, const torch::Tensor& zt,
                   const TransportPlan& plan, double t);

}  // namespace gda
