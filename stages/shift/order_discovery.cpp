#include "stages/shift/order_discovery.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/dijkstra_shortest_paths.hpp>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/random.h"
#include "stages/shift/optimal_transport.h"

namespace gda {
namespace {

torch::Tensor rows(const torch::Tensor& x) { return x.detach().reshape({x.size(0), -1}).to(torch::kFloat32); }

std::vector<double> to_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

/// A random order: the control.
std::vector<double> random_scores(std::int64_t n, std::uint64_t seed) {
  Rng rng(derive_seed(seed, "discovered/random"));
  const auto p = permutation(n, rng);
  return std::vector<double>(p.begin(), p.end());
}

/// Each pool row's mean squared distance to the source rows it is transported to in the
/// entropic optimal-transport plan between the pool and the source (uniform masses).
std::vector<double> ot_distance_scores(const torch::Tensor& source, const torch::Tensor& pool, double reg) {
  const auto a = rows(pool).to(torch::kFloat64), b = rows(source).to(torch::kFloat64);
  const auto c = (a.pow(2).sum(1, true) + b.pow(2).sum(1).unsqueeze(0) - 2.0 * a.matmul(b.t())).clamp_min(0.0);
  const std::vector<double> cost = to_vector(c);
  const int n = int(a.size(0)), m = int(b.size(0));
  if (double(n) * double(m) > 1e8)  // checked as ot_path does: the cost matrix alone would need > 0.8 GB
    throw UserError(fmt::format("order_by = \"ot_distance\": a plan between {} pool and {} source samples needs {:.1f} GB "
                                "for its cost matrix; use graph_path or domain_classifier, or smaller data.*_size",
                                n, m, double(n) * double(m) * 8 / 1e9));
  double mean = 0;
  for (double x : cost) mean += x / double(cost.size());
  const TransportPlan plan = sinkhorn_log(std::vector<double>(n, 1.0 / n), std::vector<double>(m, 1.0 / m), cost,
                                          reg * std::max(mean, 1e-12), 2000, 1e-6);
  std::vector<double> mass(n, 0.0), moved(n, 0.0);
  for (const auto& e : plan.entries) {
    mass[e.i] += e.mass;
    moved[e.i] += e.mass * cost[std::size_t(e.i) * m + e.j];
  }
  std::vector<double> scores(n);
  for (int i = 0; i < n; ++i) scores[i] = mass[i] > 0 ? moved[i] / mass[i] : std::numeric_limits<double>::max();
  return scores;
}

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS, boost::no_property,
                                    boost::property<boost::edge_weight_t, double>>;

/// Shortest-path distances from `from` through the graph.
std::vector<double> distances_from(const Graph& g, std::size_t from) {
  std::vector<double> d(boost::num_vertices(g));
  boost::dijkstra_shortest_paths(g, from, boost::distance_map(d.data()));
  return d;
}

/// d_s / (d_s + d_t): the shortest-path distances from the source and from the target
/// through a k-nearest-neighbour graph of source ∪ pool ∪ target (each side joined to a
/// virtual end node by zero-weight edges).
std::vector<double> graph_path_scores(const torch::Tensor& source, const torch::Tensor& pool, const torch::Tensor& target,
                                      int k) {
  const auto all = torch::cat({rows(source), rows(pool), rows(target)});
  const std::int64_t ns = source.size(0), np = pool.size(0), n = all.size(0);
  const std::size_t start = std::size_t(n), end = std::size_t(n) + 1;  // the virtual end nodes
  Graph g(std::size_t(n) + 2);
  const std::int64_t kk = std::min<std::int64_t>(k + 1, n);  // + itself
  for (std::int64_t b = 0; b < n; b += 1024) {  // in row blocks: an n × n matrix would not fit
    const auto block = all.slice(0, b, std::min(n, b + 1024));
    const auto d = torch::cdist(block, all);
    const auto [values, index] = d.topk(kk, 1, /*largest=*/false);
    const auto vt = values.to(torch::kCPU, torch::kFloat64).contiguous(), it = index.to(torch::kCPU).contiguous();
    const auto v = vt.accessor<double, 2>();
    const auto i = it.accessor<std::int64_t, 2>();
    for (std::int64_t r = 0; r < vt.size(0); ++r)
      for (std::int64_t c = 0; c < kk; ++c)
        if (const std::int64_t j = i[r][c]; j != b + r) boost::add_edge(std::size_t(b + r), std::size_t(j), v[r][c], g);
  }
  for (std::int64_t i = 0; i < ns; ++i) boost::add_edge(start, std::size_t(i), 0.0, g);
  for (std::int64_t i = ns + np; i < n; ++i) boost::add_edge(end, std::size_t(i), 0.0, g);
  const auto ds = distances_from(g, start), dt = distances_from(g, end);
  // Boost leaves an unreached vertex at the largest double. A row reached from one end only
  // is placed by that distance against the farthest row the other end reaches.
  auto reached = [](double d) { return d < std::numeric_limits<double>::max() / 2; };
  double far_s = 0, far_t = 0;
  for (std::int64_t p = 0; p < np; ++p) {
    if (reached(ds[std::size_t(ns + p)])) far_s = std::max(far_s, ds[std::size_t(ns + p)]);
    if (reached(dt[std::size_t(ns + p)])) far_t = std::max(far_t, dt[std::size_t(ns + p)]);
  }
  std::vector<double> scores(np);
  for (std::int64_t p = 0; p < np; ++p) {
    double s = ds[std::size_t(ns + p)], t = dt[std::size_t(ns + p)];
    if (!reached(s) && !reached(t)) {
      scores[p] = 0.5;  // cut off from both ends: the middle
      continue;
    }
    if (!reached(s)) s = far_s + t;
    if (!reached(t)) t = far_t + s;
    scores[p] = s + t > 0 ? s / (s + t) : 0.5;
  }
  return scores;
}

/// P(source) of each row of x under a logistic discriminator of source (1) against target
/// (0) rows, trained full-batch from zero weights with balanced classes (no random draw).
torch::Tensor discriminate(const torch::Tensor& ones, const torch::Tensor& zeros, const torch::Tensor& x) {
  const auto train = torch::cat({ones, zeros});
  const auto mean = train.mean(0, true), scale = train.std(0, true, true).clamp_min(1e-6);
  const auto z = (train - mean) / scale;
  const auto label = torch::cat({torch::ones({ones.size(0)}, z.options()), torch::zeros({zeros.size(0)}, z.options())});
  const auto weight = torch::cat({torch::full({ones.size(0)}, 0.5 / double(ones.size(0)), z.options()),
                                  torch::full({zeros.size(0)}, 0.5 / double(zeros.size(0)), z.options())});
  auto w = torch::zeros({z.size(1)}, z.options()).requires_grad_(true);
  auto bias = torch::zeros({1}, z.options()).requires_grad_(true);
  torch::optim::Adam opt({w, bias}, torch::optim::AdamOptions(0.05));
  for (int step = 0; step < 200; ++step) {
    opt.zero_grad();
    const auto logit = z.matmul(w) + bias;
    const auto loss = (torch::binary_cross_entropy_with_logits(logit, label, {}, {}, at::Reduction::None) * weight).sum() +
                      1e-3 * w.pow(2).sum();
    loss.backward();
    opt.step();
  }
  torch::NoGradGuard no_grad;
  return torch::sigmoid(((x - mean) / scale).matmul(w) + bias);
}

/// IDOL's coarse step (Chen and Chao, NeurIPS 2021): `rounds` times, a discriminator of the
/// source side against the target side scores the pool rows not yet placed; the most
/// source-like n/(2·rounds) join the source side, the most target-like the target side. The
/// score is the place: source-side rows in the order they joined, then the rows never
/// placed by their last probability, then the target-side rows in reverse order of joining.
std::vector<double> domain_classifier_scores(const torch::Tensor& source, const torch::Tensor& pool,
                                             const torch::Tensor& target, int rounds) {
  const auto x = rows(pool);
  const std::int64_t n = x.size(0);
  const std::int64_t per_round = std::max<std::int64_t>(1, (n + 2 * rounds - 1) / (2 * rounds));
  std::vector<std::int64_t> front, back, left(n);
  std::iota(left.begin(), left.end(), 0);
  auto ones = rows(source), zeros = rows(target);
  std::vector<double> last(n, 0.5);
  for (int r = 0; r < rounds && !left.empty(); ++r) {
    const auto idx = torch::tensor(left, torch::kInt64).to(x.device());
    const auto p = to_vector(discriminate(ones, zeros, x.index_select(0, idx)));
    std::vector<std::size_t> by(left.size());
    std::iota(by.begin(), by.end(), 0);
    std::stable_sort(by.begin(), by.end(), [&](std::size_t a, std::size_t b) { return p[a] > p[b]; });
    for (std::size_t i = 0; i < by.size(); ++i) last[left[by[i]]] = p[by[i]];
    const std::size_t take = std::size_t(std::min<std::int64_t>(per_round, std::int64_t(by.size()) / 2));
    if (take == 0) break;
    std::vector<std::int64_t> to_source, to_target;
    for (std::size_t i = 0; i < take; ++i) to_source.push_back(left[by[i]]), to_target.push_back(left[by[by.size() - 1 - i]]);
    front.insert(front.end(), to_source.begin(), to_source.end());
    back.insert(back.end(), to_target.begin(), to_target.end());
    ones = torch::cat({ones, x.index_select(0, torch::tensor(to_source, torch::kInt64).to(x.device()))});
    zeros = torch::cat({zeros, x.index_select(0, torch::tensor(to_target, torch::kInt64).to(x.device()))});
    std::vector<std::int64_t> still;
    std::vector<bool> placed(n, false);
    for (auto i : to_source) placed[i] = true;
    for (auto i : to_target) placed[i] = true;
    for (auto i : left)
      if (!placed[i]) still.push_back(i);
    left = std::move(still);
  }
  std::stable_sort(left.begin(), left.end(), [&](std::int64_t a, std::int64_t b) { return last[a] > last[b]; });
  std::vector<double> scores(n);
  double place = 0;
  for (auto i : front) scores[i] = place++;
  for (auto i : left) scores[i] = place++;
  for (auto it = back.rbegin(); it != back.rend(); ++it) scores[*it] = place++;
  return scores;
}

}  // namespace

std::vector<double> order_scores(const torch::Tensor& source, const torch::Tensor& pool, const torch::Tensor& target,
                                 const DiscoverySettings& s, std::uint64_t seed) {
  torch::NoGradGuard no_grad_outside;  // the discriminator turns gradients back on for itself
  const std::string& method = order_by_choice().name(s.method);
  for (const auto* x : {&source, &pool, &target})
    if (x->numel() > 0 && !torch::isfinite(*x).all().item<bool>())
      throw NumericError("shift.order_by = \"" + method + "\": the features to order by are not finite numbers "
                         "(a diverged model's encoder?); use features = \"pixels\"", "order discovery", 0);
  switch (s.method) {
    case OrderBy::random:
      return random_scores(pool.size(0), seed);
    case OrderBy::ot_distance:
      return ot_distance_scores(source, pool, s.sinkhorn_reg);
    case OrderBy::graph_path:
      return graph_path_scores(source, pool, target, s.neighbours);
    case OrderBy::domain_classifier: {
      torch::AutoGradMode grad(true);
      return domain_classifier_scores(source, pool, target, s.rounds);
    }
    case OrderBy::idol:
      break;
  }
  throw std::logic_error("order_scores: idol refines domain_classifier's scores with a model (idol_scores)");
}

const Choice<OrderBy>& order_by_choice() {
  static const Choice<OrderBy> choice{{"random", OrderBy::random},
                                      {"ot_distance", OrderBy::ot_distance},
                                      {"graph_path", OrderBy::graph_path},
                                      {"domain_classifier", OrderBy::domain_classifier},
                                      {"idol", OrderBy::idol}};
  return choice;
}

double kendall_tau(const std::vector<double>& a, const std::vector<double>& b) {
  const std::size_t n = std::min(a.size(), b.size());
  double concordant = 0, discordant = 0, ties_a = 0, ties_b = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) {
      const double da = a[i] - a[j], db = b[i] - b[j];
      if (da == 0 && db == 0) continue;
      if (da == 0) ++ties_a;
      else if (db == 0) ++ties_b;
      else if ((da > 0) == (db > 0)) ++concordant;
      else ++discordant;
    }
  const double denominator = std::sqrt((concordant + discordant + ties_a) * (concordant + discordant + ties_b));
  return denominator > 0 ? (concordant - discordant) / denominator : 0.0;
}

std::vector<std::int64_t> order_by_score(const std::vector<double>& scores) {
  std::vector<std::int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) { return scores[a] < scores[b]; });
  return order;
}

}  // namespace gda
