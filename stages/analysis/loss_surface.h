#pragma once
// A loss as a function of a list of parameters, for measuring the loss surface around
// trained weights (stages/analysis/sharpness.h): its value, its gradient and Hessian-vector
// products by double backward. The loss is a sum of chunks (a model's mean loss over N
// inputs, cut into inference batches), so no measurement holds more than a batch's graph.
#include <torch/types.h>

#include <functional>
#include <vector>

#include "stages/optim/tensor_list.h"

namespace gda {

class Model;

class LossSurface {
 public:
  /// chunk_loss(i) for i < chunks returns chunk i's share of the loss (a scalar with a
  /// graph to params; e.g. the chunk's summed cross-entropy divided by N), so that the
  /// chunks sum to the loss.
  LossSurface(Tensors params, std::function<torch::Tensor(std::size_t)> chunk_loss, std::size_t chunks = 1);

  const Tensors& params() const { return params_; }

  /// The loss at the current parameters, without a graph.
  double value() const;
  /// The loss and its gradient at the current parameters (.grad is left untouched).
  double value_and_gradient(Tensors& gradient) const;
  /// H·v at the current parameters, by double backward: the gradient of <∇L, v>.
  Tensors hessian_vector_product(const Tensors& v) const;

  /// Forward and backward passes spent so far (a chunk's pass counts as one).
  std::int64_t passes() const { return passes_; }

 private:
  Tensors params_;
  std::function<torch::Tensor(std::size_t)> chunk_loss_;
  std::size_t chunks_;
  mutable std::int64_t passes_ = 0;
};

/// How many chunks of `chunk` rows cover `rows` rows.
std::size_t chunk_count(std::int64_t rows, std::int64_t chunk);
/// Chunk i of t's rows: [i·chunk, (i+1)·chunk), fewer at the end.
torch::Tensor chunk_rows(const torch::Tensor& t, std::size_t i, std::int64_t chunk);

/// The one chunked loss gda measures surfaces of: the mean cross-entropy of `model` (its own
/// parameters) on x against y, Σ_i w_i ℓ_i / N, `chunk` rows per pass; w undefined means
/// all ones. Analysis measures it with labels; idol's refinement with per-row weights.
LossSurface mean_loss_surface(Model& model, const torch::Tensor& x, const torch::Tensor& y, std::int64_t chunk,
                              const torch::Tensor& w = {});

}  // namespace gda
