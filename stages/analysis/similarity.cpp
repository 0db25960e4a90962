#include "stages/analysis/similarity.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

namespace gda {
namespace {

torch::Tensor rows(const torch::Tensor& x) { return x.detach().reshape({x.size(0), -1}).to(torch::kFloat64); }

}  // namespace

torch::Tensor linear_gram(const torch::Tensor& x) {
  const auto r = rows(x);
  return r.matmul(r.t());
}

torch::Tensor rbf_gram(const torch::Tensor& x, double bandwidth) {
  const auto r = rows(x);
  const auto squared = r.pow(2).sum(1);
  // ||a − b||² = |a|² + |b|² − 2 a·b, clamped at 0 against rounding.
  const auto d2 = (squared.unsqueeze(1) + squared.unsqueeze(0) - 2 * r.matmul(r.t())).clamp_min(0);
  const auto n = r.size(0);
  const auto upper = torch::ones({n, n}, torch::kBool).triu(1).to(d2.device());
  const auto distances = d2.masked_select(upper).sqrt();
  const double median = distances.numel() ? distances.median().item<double>() : 0.0;
  if (!(median > 0)) return torch::ones_like(d2);
  const double sigma = bandwidth * median;
  return (-d2 / (2 * sigma * sigma)).exp();
}

double hsic(const torch::Tensor& k, const torch::Tensor& l, HsicEstimator estimator) {
  const double n = double(k.size(0));
  if (estimator == HsicEstimator::biased) {
    // tr(K C L C) with C = I − 11ᵀ/n: centre K's rows and columns, then Σ_ij (CKC)_ij L_ij.
    const auto kc = k - k.mean(0, true) - k.mean(1, true) + k.mean();
    return (kc * l).sum().item<double>() / ((n - 1) * (n - 1));
  }
  if (n < 4) return std::numeric_limits<double>::quiet_NaN();
  const auto kt = k - torch::diag_embed(k.diagonal()), lt = l - torch::diag_embed(l.diagonal());
  const double trace = (kt * lt).sum().item<double>();  // tr(K̃ L̃), both symmetric
  const double sums = kt.sum().item<double>() * lt.sum().item<double>() / ((n - 1) * (n - 2));
  const double cross = kt.sum(0).dot(lt.sum(1)).item<double>() * 2 / (n - 2);  // 1ᵀK̃L̃1
  return (trace + sums - cross) / (n * (n - 3));
}

double cka(const torch::Tensor& k, const torch::Tensor& l, HsicEstimator estimator) {
  const double kk = hsic(k, k, estimator), ll = hsic(l, l, estimator);
  if (!(kk > 0) || !(ll > 0)) return std::numeric_limits<double>::quiet_NaN();
  return hsic(k, l, estimator) / std::sqrt(kk * ll);
}

}  // namespace gda
