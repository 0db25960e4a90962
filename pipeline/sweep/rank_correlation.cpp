#include "pipeline/sweep/rank_correlation.h"

#include <algorithm>
#include <boost/math/distributions/students_t.hpp>
#include <cmath>
#include <numeric>

namespace gda {

std::vector<double> mean_ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double mean = (double(i) + double(j)) / 2 + 1;  // ranks i+1 … j+1
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = mean;
    i = j + 1;
  }
  return ranks;
}

std::optional<RankCorrelation> spearman(const std::vector<double>& x, const std::vector<double>& y) {
  const std::size_t n = std::min(x.size(), y.size());
  if (n < 3) return std::nullopt;
  const auto rx = mean_ranks(std::vector<double>(x.begin(), x.begin() + long(n)));
  const auto ry = mean_ranks(std::vector<double>(y.begin(), y.begin() + long(n)));
  const double mean = (double(n) + 1) / 2;  // of ranks 1…n, ties or not
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < n; ++i) {
    sxy += (rx[i] - mean) * (ry[i] - mean);
    sxx += (rx[i] - mean) * (rx[i] - mean);
    syy += (ry[i] - mean) * (ry[i] - mean);
  }
  if (sxx == 0 || syy == 0) return std::nullopt;
  RankCorrelation r;
  r.n = n;
  r.rho = sxy / std::sqrt(sxx * syy);
  if (std::abs(r.rho) >= 1) {
    r.p_value = 0;
  } else if (n > 2) {
    const double t = r.rho * std::sqrt(double(n - 2) / (1 - r.rho * r.rho));
    const boost::math::students_t dist(double(n - 2));
    r.p_value = 2 * boost::math::cdf(boost::math::complement(dist, std::abs(t)));
  }
  return r;
}

}  // namespace gda
