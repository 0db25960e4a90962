#pragma once
// Arithmetic on lists of tensors, one per parameter: what the optimizers do to "the
// gradient" or "the weights" as a whole. Norms and inner products run over all tensors
// together and accumulate per-tensor sums in double, one .item() per tensor.
#include <torch/types.h>

#include <vector>

namespace gda {

using Tensors = std::vector<torch::Tensor>;

/// Sum of squared entries over all tensors, as a double (for norms across parameters).
double squared_norm(const Tensors& tensors);

/// <a, b> over all tensors: Σ_i (a[i] · b[i]).sum(), each term taken as a double.
double dot(const Tensors& a, const Tensors& b);

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

}  // namespace gda
