#pragma once
// Arithmetic on lists of tensors, one per parameter: what the optimizers do to "the
// gradient" or "the weights" as a whole. Norms and inner products run over all tensors
// together, accumulate per-tensor sums in double and stay 0-d tensors on the tensors'
// device, so that a step on a GPU never waits for the host to read a number back.
#include <torch/types.h>

#include <vector>

namespace gda {

using Tensors = std::vector<torch::Tensor>;

/// Sum of squared entries over all tensors (for norms across parameters): a 0-d float64
/// tensor on the tensors' device. On the CPU, Σ_i ||t_i||² with each norm in float rounded
/// to double and summed in order; on a GPU the same sum of the norms of one multi-tensor
/// operation (equal to the per-tensor norms up to float rounding), on the device.
torch::Tensor squared_norm(const Tensors& tensors);

/// <a, b> over all tensors: Σ_i (a[i] · b[i]).sum(), each term taken as a double; a 0-d
/// float64 tensor on the tensors' device.
torch::Tensor dot(const Tensors& a, const Tensors& b);

/// A 0-d float64 tensor holding x, on `like`'s device (a radius or step size that meets
/// device-side norms).
torch::Tensor scalar_like(double x, const torch::Tensor& like);

/// The part of v orthogonal to `onto`: v − (<v, onto> / (||onto||² + eps))·onto, and v itself
/// when ||onto||² + eps is 0 (a zero `onto` with eps = 0).
Tensors orthogonal_part(const Tensors& v, const Tensors& onto, double eps = 0.0);

/// The .grad of each parameter (zeros where none).
Tensors gradients(const Tensors& params);

/// params[i] += alpha · delta[i], without recording a graph.
void add_to(const Tensors& params, const Tensors& delta, double alpha = 1.0);

/// Copies of the parameters' values, and writing such copies back.
Tensors snapshot(const Tensors& params);
void restore(const Tensors& params, const Tensors& saved);

/// The one put-the-weights-back guard: saves the tensors' values when made and writes them
/// back exactly (saved copies, not an update undone, which may differ in the last bit) at
/// undo() or when it goes, also when an exception passes. SAM's perturbation, TRAM's borrowed
/// reference weights and idol's unrolled steps stand on it.
class SavedWeights {
 public:
  explicit SavedWeights(Tensors params) : params_(std::move(params)), saved_(snapshot(params_)) {}
  ~SavedWeights() { undo(); }
  /// Back to the saved values now (idempotent).
  void undo() {
    if (active_) restore(params_, saved_), active_ = false;
  }
  const Tensors& saved() const { return saved_; }

  SavedWeights(const SavedWeights&) = delete;
  SavedWeights& operator=(const SavedWeights&) = delete;

 private:
  Tensors params_, saved_;
  bool active_ = true;
};

}  // namespace gda
