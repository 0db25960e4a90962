#include "stages/analysis/sharpness.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "stages/optim/neighbourhood.h"

namespace gda {
namespace {

/// A standard normal draw shaped like each tensor, from gen (on the CPU, then moved).
Tensors normal_like(const Tensors& like, at::Generator& gen) {
  Tensors out;
  for (const auto& p : like)
    out.push_back(torch::randn(p.sizes(), gen, torch::TensorOptions().dtype(p.scalar_type())).to(p.device()));
  return out;
}

/// ±1 with probability ½ each, shaped like each tensor.
Tensors rademacher_like(const Tensors& like, at::Generator& gen) {
  Tensors out;
  for (const auto& p : like)
    out.push_back((torch::randint(0, 2, p.sizes(), gen, torch::TensorOptions().dtype(p.scalar_type())) * 2 - 1)
                      .to(p.device()));
  return out;
}

double norm_of(const Tensors& t) { return std::sqrt(squared_norm(t).item<double>()); }

Tensors scaled(const Tensors& t, double factor) {
  Tensors out;
  for (const auto& x : t) out.push_back(x * factor);
  return out;
}

Tensors times(const Tensors& a, const Tensors& b) {
  Tensors out;
  for (std::size_t i = 0; i < a.size(); ++i) out.push_back(a[i] * b[i]);
  return out;
}

}  // namespace

at::Generator analysis_generator(std::uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

double worst_case_sharpness(const LossSurface& loss, const WorstCaseSettings& s, at::Generator& gen) {
  const Tensors& w = loss.params();
  // e = scale ∘ u with ||u|| ≤ rho: scale is 1 for SAM's ball, |w| + eta for ASAM's.
  Tensors scale;
  for (const auto& p : w)
    scale.push_back(s.adaptive ? p.detach().abs() + s.eta : torch::ones_like(p));
  Tensors gradient;
  const double base = loss.value_and_gradient(gradient);
  Tensors direction = times(scale, gradient);
  double length = norm_of(direction);
  if (!(length > 0)) direction = normal_like(w, gen), length = norm_of(direction);
  Tensors u = scaled(direction, s.rho / length);
  double worst = base;
  for (int step = 0; step < s.steps; ++step) {
    double at;
    {
      Perturbed moved(w, times(scale, u));
      at = loss.value_and_gradient(gradient);
    }
    worst = std::max(worst, at);
    if (step + 1 == s.steps) break;
    direction = times(scale, gradient);
    length = norm_of(direction);
    if (!(length > 0)) break;  // flat here: no direction to climb
    for (std::size_t i = 0; i < u.size(); ++i) u[i] = u[i] + direction[i] * (s.rho / length);
    if (const double n = norm_of(u); n > s.rho) u = scaled(u, s.rho / n);
  }
  return worst - base;
}

double average_case_sharpness(const LossSurface& loss, double sigma, int draws, at::Generator& gen) {
  const double base = loss.value();
  double sum = 0;
  for (int i = 0; i < draws; ++i) {
    Perturbed moved(loss.params(), scaled(normal_like(loss.params(), gen), sigma));
    sum += loss.value() - base;
  }
  return draws > 0 ? sum / draws : 0.0;
}

TopEigenvalue top_hessian_eigenvalue(const LossSurface& loss, int max_iterations, double tolerance,
                                     at::Generator& gen) {
  TopEigenvalue top;
  Tensors v = normal_like(loss.params(), gen);
  v = scaled(v, 1.0 / norm_of(v));
  for (int it = 1; it <= max_iterations; ++it) {
    const Tensors hv = loss.hessian_vector_product(v);
    const double lambda = dot(v, hv).item<double>();
    top.iterations = it;
    const bool settled = it > 1 && std::abs(lambda - top.value) <= tolerance * std::abs(lambda);
    top.value = lambda;
    const double n = norm_of(hv);
    if (!std::isfinite(n) || !std::isfinite(lambda)) {  // a diverged loss: no estimate
      top.value = std::numeric_limits<double>::quiet_NaN();
      break;
    }
    if (settled || n == 0) {  // H v = 0: v lies in the null space, λ = 0 there
      top.converged = true;
      break;
    }
    v = scaled(hv, 1.0 / n);
  }
  return top;
}

double hessian_trace(const LossSurface& loss, int probes, at::Generator& gen) {
  double sum = 0;
  for (int i = 0; i < probes; ++i) {
    const Tensors z = rademacher_like(loss.params(), gen);
    sum += dot(z, loss.hessian_vector_product(z)).item<double>();
  }
  return probes > 0 ? sum / probes : 0.0;
}

}  // namespace gda
