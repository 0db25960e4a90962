#pragma once
// Spearman's rank correlation with its p-value, for the report's question "does a
// measurement predict the ranking of the runs?" (sharpness against target accuracy).
#include <optional>
#include <vector>

namespace gda {

struct RankCorrelation {
  double rho = 0;        ///< Pearson's correlation of the ranks (ties get their mean rank)
  double p_value = 1;    ///< two-sided, from t = ρ·sqrt((n − 2)/(1 − ρ²)) with n − 2 degrees of freedom
  std::size_t n = 0;
};

/// The ranks of v, 1-based, ties sharing their mean rank.
std::vector<double> mean_ranks(const std::vector<double>& v);

/// Spearman's ρ of paired samples; none below 3 pairs or when either side is constant.
std::optional<RankCorrelation> spearman(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace gda
