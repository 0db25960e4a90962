#include "stages/optim/tensor_list.h"

#include <torch/torch.h>

namespace gda {

namespace {

/// One 0-d float64 tensor per defined tensor of the list, summed: on the CPU the terms are
/// read back and added in order in double (which is free there, and keeps the numbers of
/// the loop this replaced); on a GPU they are stacked and summed on the device.
template <class Term>
torch::Tensor sum_terms(std::size_t n, const torch::Tensor& like, Term term) {
  torch::NoGradGuard no_grad;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(like.device());
  if (like.device().is_cpu()) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i)
      if (auto t = term(i); t.defined()) s += t.template item<double>();
    return torch::scalar_tensor(s, f64);
  }
  Tensors terms;
  for (std::size_t i = 0; i < n; ++i)
    if (auto t = term(i); t.defined()) terms.push_back(t.to(torch::kFloat64));
  return terms.empty() ? torch::zeros({}, f64) : torch::stack(terms).sum();
}

const torch::Tensor& first_defined(const Tensors& tensors) {
  static const torch::Tensor none = torch::zeros({});
  for (const auto& t : tensors)
    if (t.defined()) return t;
  return none;
}

}  // namespace

torch::Tensor squared_norm(const Tensors& tensors) {
  // One pass per tensor without temporaries (a float64 copy of 3M weights costs ~3 % of
  // a SAM step); LibTorch's norm accumulates pairwise, accurate to float rounding.
  return sum_terms(tensors.size(), first_defined(tensors), [&](std::size_t i) {
    if (!tensors[i].defined()) return torch::Tensor();
    const auto n = tensors[i].norm().to(torch::kFloat64);
    return n * n;
  });
}

torch::Tensor dot(const Tensors& a, const Tensors& b) {
  return sum_terms(a.size(), first_defined(a), [&](std::size_t i) { return (a[i] * b[i]).sum(); });
}

torch::Tensor scalar_like(double x, const torch::Tensor& like) {
  return torch::scalar_tensor(x, torch::TensorOptions().dtype(torch::kFloat64).device(like.device()));
}

Tensors orthogonal_part(const Tensors& v, const Tensors& onto, double eps) {
  torch::NoGradGuard no_grad;
  const auto norm2 = squared_norm(onto) + eps;
  // v itself when norm2 is 0: along is then 0, without a branch on the host.
  const auto along = torch::where(norm2 > 0, dot(v, onto) / norm2, torch::zeros_like(norm2));
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
