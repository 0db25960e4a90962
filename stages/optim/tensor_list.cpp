#include "stages/optim/tensor_list.h"

#include <torch/torch.h>

namespace gda {

double squared_norm(const Tensors& tensors) {
  double s = 0;
  // One pass per tensor without temporaries (a float64 copy of 3M weights costs ~3 % of
  // a SAM step); LibTorch's norm accumulates pairwise, accurate to float rounding.
  for (const auto& t : tensors)
    if (t.defined()) {
      const double n = t.norm().item<double>();
      s += n * n;
    }
  return s;
}

double dot(const Tensors& a, const Tensors& b) {
  torch::NoGradGuard no_grad;
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) s += (a[i] * b[i]).sum().item<double>();
  return s;
}

Tensors orthogonal_part(const Tensors& v, const Tensors& onto, double eps) {
  torch::NoGradGuard no_grad;
  const double along_dot = dot(v, onto);
  const double norm2 = squared_norm(onto) + eps;
  const double along = norm2 > 0 ? along_dot / norm2 : 0.0;
  Tensors out;
  for (std::size_t i = 0; i < v.size(); ++i) out.push_back(v[i] - along * onto[i]);
  return out;
}

Tensors gradients(const Tensors& params) {
  Tensors g;
  for (const auto& p : params) g.push_back(p.grad().defined() ? p.grad() : torch::zeros_like(p));
  return g;
}

void add_to(const Tensors& params, const Tensors& delta, double alpha) {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i) params[i].add_(delta[i], alpha);
}

Tensors snapshot(const Tensors& params) {
  Tensors s;
  for (const auto& p : params) s.push_back(p.detach().clone());
  return s;
}

void restore(const Tensors& params, const Tensors& saved) {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(saved[i]);
}

}  // namespace gda
