#include "stages/optim/tensor_list.h"

#include <torch/torch.h>

#include "core/torch_compat.h"

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
  const auto& like = first_defined(tensors);
  if (!like.device().is_cpu()) {
    // On a GPU every norm in one multi-tensor launch (a step is bound by its launches there).
    torch::NoGradGuard no_grad;
    Tensors defined;
    for (const auto& t : tensors)
      if (t.defined()) defined.push_back(t);
    if (defined.empty()) return scalar_like(0.0, like);
    return torch::stack(torch::_foreach_norm(defined)).to(torch::kFloat64).square().sum();
  }
  // One pass per tensor without temporaries (a float64 copy of 3M weights costs ~3 % of
  // a SAM step); LibTorch's norm accumulates pairwise, accurate to float rounding.
  return sum_terms(tensors.size(), like, [&](std::size_t i) {
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
  torch::_foreach_add_(params, delta, alpha);
}

Tensors snapshot(const Tensors& params) {
  torch::NoGradGuard no_grad;
  Tensors s;
  for (const auto& p : params) s.push_back(torch::empty_like(p));
  copy_all(s, params);
  return s;
}

void restore(const Tensors& params, const Tensors& saved) {
  torch::NoGradGuard no_grad;
  copy_all(params, saved);
}

}  // namespace gda
