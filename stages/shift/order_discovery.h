#pragma once
// Ordering an unindexed pool from the source to the target (issue 18; docs/GENERATORS.md,
// discovered). Each method scores every pool row, lower = nearer the source end of the path;
// the discovered generator sorts by the score and cuts the order into domains. Inputs are
// feature rows ([N, D], any device): pixels flattened, or a model's encoder output.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/choice.h"

namespace gda {

/// How a pool is ordered (shift.order_by). idol is the discovered generator's own: it
/// refines domain_classifier's order with the model (stages/shift/idol_refinement.h).
enum class OrderBy { random, ot_distance, graph_path, domain_classifier, idol };
const Choice<OrderBy>& order_by_choice();

struct DiscoverySettings {
  OrderBy method = OrderBy::graph_path;
  int neighbours = 10;                ///< graph_path: k of the k-nearest-neighbour graph
  int rounds = 10;                    ///< domain_classifier: progressive rounds
  double sinkhorn_reg = 0.05;         ///< ot_distance: entropic regularisation / mean cost
};

/// One score per pool row by `s.method` (not idol); `seed` feeds random (and nothing else draws).
std::vector<double> order_scores(const torch::Tensor& source, const torch::Tensor& pool, const torch::Tensor& target,
                                 const DiscoverySettings& s, std::uint64_t seed);

/// Kendall's τ-b between two equally long sequences (ties in either count as neither
/// concordant nor discordant); 0 when either is constant.
double kendall_tau(const std::vector<double>& a, const std::vector<double>& b);

/// Pool rows sorted by score (ties by row), the order the domains are cut from.
std::vector<std::int64_t> order_by_score(const std::vector<double>& scores);

}  // namespace gda
