#pragma once
// The weight perturbations shared by the sharpness-aware family: the ascent direction of
// SAM's Euclidean ball and of ASAM's scale-invariant one, and moving the weights there
// and back. Variants build on these instead of repeating them.
#include <vector>

#include "stages/optim/tensor_list.h"

namespace gda {

class Model;

/// SAM (Foret et al. 2021): e = rho · g / (||g|| + 1e-12), the norm over all tensors.
/// rho may be a 0-d tensor computed on the device (TRAM's divergence-sized radius).
Tensors sam_ascent(const Tensors& g, const torch::Tensor& rho);
Tensors sam_ascent(const Tensors& g, double rho);

/// ASAM (Kwon et al. 2021), as its official code: T = |w| + eta on tensors marked in
/// `scaled` (the weights), T = 1 elsewhere (biases); e = rho · T² g / (||T g|| + 1e-16).
/// An empty `scaled` (the default) scales every tensor.
Tensors adaptive_ascent(const Tensors& w, const Tensors& g, const torch::Tensor& rho, double eta,
                        const std::vector<bool>& scaled = {});
Tensors adaptive_ascent(const Tensors& w, const Tensors& g, double rho, double eta,
                        const std::vector<bool>& scaled = {});

/// Which parameters ASAM scales: those whose name contains "weight" (the official code's
/// rule), in the order of model.parameters().
std::vector<bool> weight_tensors(const Model& model);

/// Moves the weights to w + e and back to exactly w (SavedWeights: restoring saved values
/// rather than subtracting e, which may differ in the last bit).
class Perturbed {
 public:
  Perturbed(const Tensors& params, const Tensors& e) : original_(params) { add_to(params, e); }
  /// Back to the original weights now (idempotent).
  void undo() { original_.undo(); }

 private:
  SavedWeights original_;
};

}  // namespace gda
