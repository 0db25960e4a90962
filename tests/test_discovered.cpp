// The discovered generator (issue 18): each ordering method on pools whose order is known,
// and a tiny shuffled rotating pool through the real pipeline.
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "core/random.h"
#include "pipeline/config.h"
#include "pipeline/run.h"
#include "stages/shift/order_discovery.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

/// Points drifting along a line in 2-D (x from 0 to 1, a little noise across): the source
/// near x = 0, the target near x = 1, the pool in between, shuffled; `truth` is each pool
/// row's x.
struct Drift {
  torch::Tensor source, pool, target;
  std::vector<double> truth;
};

Drift drift(std::int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  auto line = [](const torch::Tensor& x) { return torch::stack({x, 0.05 * torch::randn_like(x)}, 1); };
  Drift d;
  d.source = line(0.1 * torch::rand({60}));
  d.target = line(0.9 + 0.1 * torch::rand({60}));
  const auto x = 0.1 + 0.8 * torch::rand({n});
  d.pool = line(x);
  d.truth.assign(x.data_ptr<float>(), x.data_ptr<float>() + n);
  return d;
}

double tau_of(const std::string& method, const Drift& d, std::uint64_t seed = 1) {
  DiscoverySettings s;
  s.method = method;
  s.rounds = 10;
  return kendall_tau(order_scores(d.source, d.pool, d.target, s, seed), d.truth);
}

TEST(KendallTau, AgainstHandCountedPairs) {
  EXPECT_DOUBLE_EQ(kendall_tau({1, 2, 3, 4}, {10, 20, 30, 40}), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau({1, 2, 3, 4}, {4, 3, 2, 1}), -1.0);
  // (1,2,3) vs (1,3,2): pairs (1,2) +, (1,3) +, (2,3) −: τ = (2 − 1)/3.
  EXPECT_NEAR(kendall_tau({1, 2, 3}, {1, 3, 2}), 1.0 / 3, 1e-12);
  // With a tie in b: (1,2,3) vs (1,1,2): pairs +? (1,2) tie in b, (1,3) +, (2,3) +:
  // τ-b = 2 / sqrt(3 · 2).
  EXPECT_NEAR(kendall_tau({1, 2, 3}, {1, 1, 2}), 2 / std::sqrt(6.0), 1e-12);
  EXPECT_DOUBLE_EQ(kendall_tau({1, 1, 1}, {1, 2, 3}), 0.0);
}

TEST(OrderDiscovery, EachMethodRecoversADriftAlongALineAndRandomDoesNot) {
  const Drift d = drift(300, 0);
  EXPECT_GT(tau_of("graph_path", d), 0.8);
  EXPECT_GT(tau_of("ot_distance", d), 0.8);
  EXPECT_GT(tau_of("domain_classifier", d), 0.8);
  EXPECT_LT(std::abs(tau_of("random", d)), 0.1);
  // Deterministic: the discriminator starts from zero weights; random follows its seed.
  DiscoverySettings s;
  s.method = "domain_classifier";
  EXPECT_EQ(order_scores(d.source, d.pool, d.target, s, 3), order_scores(d.source, d.pool, d.target, s, 4));
  s.method = "random";
  EXPECT_EQ(order_scores(d.source, d.pool, d.target, s, 3), order_scores(d.source, d.pool, d.target, s, 3));
  EXPECT_NE(order_scores(d.source, d.pool, d.target, s, 3), order_scores(d.source, d.pool, d.target, s, 4));
  // Features that are not numbers are refused, not ordered.
  s.method = "graph_path";
  auto broken = d.pool.clone();
  broken[0][0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(order_scores(d.source, broken, d.target, s, 1), NumericError);
}

TEST(OrderDiscovery, OrderBySortsScoresStably) {
  EXPECT_EQ(order_by_score({0.5, 0.1, 0.5, 0.0}), (std::vector<std::int64_t>{3, 1, 0, 2}));
}

TEST(DiscoveredEndToEnd, AShuffledRotatingPoolIsCutIntoDomainsOfIncreasingAngle) {
  const std::string dir = temp_dir("discovered");
  const std::string cfg = tiny_config(3) + "\n";
  std::string text = cfg;
  // The tiny config's rotation generator becomes the discovered generator's endpoints.
  text.replace(text.find("generator = \"rotation\""), 22, "generator = \"discovered\"\norder_by = \"graph_path\"");
  const auto summary = run_experiment(parse_config(text, "tiny.toml"), {dir, nullptr});
  ASSERT_EQ(summary.status, "ok") << summary.error;
  // The order file: every pool row once, in a domain 1…3 of equal size (the remainder left out).
  std::ifstream in(dir + "/discovered_order.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "pool_index,score,domain,true_domain");
  std::vector<int> size(4, 0);
  std::vector<double> mean_true(4, 0.0);
  int rows = 0;
  while (std::getline(in, line)) {
    int index, domain, truth;
    double score;
    ASSERT_EQ(std::sscanf(line.c_str(), "%d,%lf,%d,%d", &index, &score, &domain, &truth), 4) << line;
    EXPECT_EQ(index, rows++);
    ASSERT_GE(domain, 0);
    ASSERT_LE(domain, 3);
    ++size[domain];
    mean_true[domain] += truth;
  }
  EXPECT_EQ(rows, 300);  // the tiny config's intermediate_size
  EXPECT_EQ(size[1], 100);
  EXPECT_EQ(size[2], 100);
  EXPECT_EQ(size[3], 100);
  // Discovered domains go in increasing angle on average.
  for (int k = 1; k <= 3; ++k) mean_true[k] /= size[k];
  EXPECT_LT(mean_true[1], mean_true[2]);
  EXPECT_LT(mean_true[2], mean_true[3]);
  // stages.jsonl: source, the 3 found domains (with τ), then the target.
  std::ifstream stages(dir + "/stages.jsonl");
  std::vector<nlohmann::json> lines;
  while (std::getline(stages, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[1]["domain"], "found1");
  EXPECT_EQ(lines[4]["domain"], "target");
  ASSERT_TRUE(lines[1].contains("discovered_order_tau"));
  EXPECT_GT(lines[1]["discovered_order_tau"].get<double>(), 0.3);
}

}  // namespace
}  // namespace gda::test
