// Mean ± sample std over seeds, and the 95 % intervals of paired differences: Student's t
// and the percentile bootstrap.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/random.h"
#include "pipeline/sweep/report.h"

namespace gda {
MeanStd MeanStd::of(const std::vector<double>& v) {
  MeanStd m;
  m.n = v.size();
  if (v.empty()) return m;
  double s = 0;
  for (double x : v) s += x;
  m.mean = s / double(v.size());
  if (v.size() >= 2) {
    double ss = 0;
    for (double x : v) ss += (x - *m.mean) * (x - *m.mean);
    m.std = std::sqrt(ss / double(v.size() - 1));
  }
  return m;
}

double t_quantile_975(std::size_t df) {
  // t(0.975, df) to 3 decimals for df ≤ 30 (the usual seed counts); beyond, the
  // Cornish–Fisher expansion around z = 1.95996, within 2e-4 there.
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df == 0) return std::numeric_limits<double>::infinity();
  if (df <= 30) return table[df - 1];
  const double z = 1.959964, v = double(df);
  return z + (z * z * z + z) / (4 * v) + (5 * std::pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * v * v);
}

MeanCi MeanCi::bootstrap(const std::vector<double>& v, std::uint64_t seed, int resamples) {
  MeanCi m;
  const MeanStd s = MeanStd::of(v);
  m.n = s.n;
  m.mean = s.mean;
  if (v.size() < 2 || resamples < 1) return m;
  Rng rng(seed);
  std::vector<double> means(std::size_t(resamples), 0.0);
  for (auto& mean : means) {
    // rng() % n, as permutation() draws: the same with any standard library (bias < n/2⁶⁴).
    for (std::size_t i = 0; i < v.size(); ++i) mean += v[rng() % v.size()];
    mean /= double(v.size());
  }
  std::sort(means.begin(), means.end());
  m.low = means[std::size_t(std::floor(0.025 * resamples))];
  m.high = means[std::size_t(std::ceil(0.975 * resamples)) - 1];
  return m;
}

MeanCi MeanCi::of(const std::vector<double>& v) {
  MeanCi m;
  const MeanStd s = MeanStd::of(v);
  m.n = s.n;
  m.mean = s.mean;
  if (s.std) {
    const double half = t_quantile_975(v.size() - 1) * *s.std / std::sqrt(double(v.size()));
    m.low = *s.mean - half;
    m.high = *s.mean + half;
  }
  return m;
}
}  // namespace gda
