// The discovered generator (issue 18): each ordering method on pools whose order is known,
// IDOL's cycle gradient against finite differences, and tiny shuffled rotating pools
// through the real pipeline.
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "core/random.h"
#include "pipeline/config.h"
#include "pipeline/run.h"
#include "stages/optim/tensor_list.h"
#include "stages/shift/idol_refinement.h"
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

double tau_of(OrderBy method, const Drift& d, std::uint64_t seed = 1) {
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
  EXPECT_GT(tau_of(OrderBy::graph_path, d), 0.8);
  EXPECT_GT(tau_of(OrderBy::ot_distance, d), 0.8);
  EXPECT_GT(tau_of(OrderBy::domain_classifier, d), 0.8);
  EXPECT_LT(std::abs(tau_of(OrderBy::random, d)), 0.1);
  // Deterministic: the discriminator starts from zero weights; random follows its seed.
  DiscoverySettings s;
  s.method = OrderBy::domain_classifier;
  EXPECT_EQ(order_scores(d.source, d.pool, d.target, s, 3), order_scores(d.source, d.pool, d.target, s, 4));
  s.method = OrderBy::random;
  EXPECT_EQ(order_scores(d.source, d.pool, d.target, s, 3), order_scores(d.source, d.pool, d.target, s, 3));
  EXPECT_NE(order_scores(d.source, d.pool, d.target, s, 3), order_scores(d.source, d.pool, d.target, s, 4));
  // Features that are not numbers are refused, not ordered.
  s.method = OrderBy::graph_path;
  auto broken = d.pool.clone();
  broken[0][0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(order_scores(d.source, broken, d.target, s, 1), NumericError);
}

TEST(OrderDiscovery, OrderBySortsScoresStably) {
  EXPECT_EQ(order_by_score({0.5, 0.1, 0.5, 0.0}), (std::vector<std::int64_t>{3, 1, 0, 2}));
}

/// The order file of a tiny run (300 pool rows, T = 3), whose header must be `header`: each
/// found domain gets 100 rows, and they go in increasing true angle on average. Returns each
/// row's found domain (0: left out).
std::vector<int> expect_equal_domains_of_increasing_angle(const std::string& dir, const std::string& header) {
  std::ifstream in(dir + "/discovered_order.csv");
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, header);
  std::vector<int> size(4, 0), domain_of;
  std::vector<double> mean_true(4, 0.0);
  while (std::getline(in, line)) {
    int index, domain, truth;
    double score;
    if (std::sscanf(line.c_str(), "%d,%lf,%d,%d", &index, &score, &domain, &truth) != 4 || domain < 0 ||
        domain > 3 || index != int(domain_of.size())) {
      ADD_FAILURE() << "not an order line: " << line;
      return domain_of;
    }
    domain_of.push_back(domain);
    ++size[domain];
    mean_true[domain] += truth;
  }
  EXPECT_EQ(domain_of.size(), 300u);  // the tiny config's intermediate_size
  for (int k = 1; k <= 3; ++k) {
    EXPECT_EQ(size[k], 100);
    mean_true[k] /= std::max(1, size[k]);
  }
  EXPECT_LT(mean_true[1], mean_true[2]);
  EXPECT_LT(mean_true[2], mean_true[3]);
  return domain_of;
}

TEST(DiscoveredEndToEnd, AShuffledRotatingPoolIsCutIntoDomainsOfIncreasingAngle) {
  const std::string dir = temp_dir("discovered");
  const std::string cfg = tiny_config(3) + "\n";
  std::string text = cfg;
  // The tiny config's rotation generator becomes the discovered generator's endpoints.
  text.replace(text.find("generator = \"rotation\""), 22, "generator = \"discovered\"\norder_by = \"graph_path\"");
  const auto summary = run_experiment(parse_config(text, "tiny.toml"), {dir, nullptr});
  ASSERT_EQ(summary.status, RunStatus::ok) << summary.error;
  // The order file: every pool row once, in a domain 1…3 of equal size, in increasing angle.
  expect_equal_domains_of_increasing_angle(dir, "pool_index,score,domain,true_domain");
  // stages.jsonl: source, the 3 found domains (with τ), then the target.
  std::ifstream stages(dir + "/stages.jsonl");
  std::string line;
  std::vector<nlohmann::json> lines;
  while (std::getline(stages, line)) lines.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[1]["domain"], "found1");
  EXPECT_EQ(lines[4]["domain"], "target");
  ASSERT_TRUE(lines[1].contains("discovered_order_tau"));
  EXPECT_GT(lines[1]["discovered_order_tau"].get<double>(), 0.3);
}

/// x → tanh(A x + a) → B · + b: small, smooth, with curvature (so the Hessian-vector
/// product in the cycle gradient matters), in float64 for finite differences.
class TanhNet : public Model {
 public:
  TanhNet() {
    a = register_module("a", torch::nn::Linear(2, 4));
    b = register_module("b", torch::nn::Linear(4, 3));
    make_fresh = [] { return std::make_shared<TanhNet>(); };
  }
  torch::Tensor encode(const torch::Tensor& x) override { return torch::tanh(a(x)); }
  torch::Tensor head(const torch::Tensor& f) override { return b(f); }
  torch::nn::Linear a{nullptr}, b{nullptr};
};

std::shared_ptr<TanhNet> tanh_net(std::uint64_t seed, torch::Dtype dtype = torch::kFloat64) {
  torch::manual_seed(seed);
  auto m = std::make_shared<TanhNet>();
  m->to(dtype);
  return m;
}

/// The round trip written out step by step, independently of cycle_gradient: one SGD step on
/// the q-weighted candidates, the stepped model's argmax labels on the current domain, one
/// SGD step back on them, then the mean cross-entropy on the current domain's labels.
double round_trip_loss(TanhNet& m, const torch::Tensor& cur_x, const torch::Tensor& cur_y, const torch::Tensor& cand_x,
                       const torch::Tensor& cand_y, const torch::Tensor& q, double alpha) {
  namespace F = torch::nn::functional;
  auto params = m.parameters();
  std::vector<torch::Tensor> saved;
  for (auto& p : params) saved.push_back(p.detach().clone());
  auto step = [&](const torch::Tensor& loss) {
    const auto g = torch::autograd::grad({loss}, params);
    torch::NoGradGuard no_grad;
    for (std::size_t j = 0; j < params.size(); ++j) params[j].sub_(alpha * g[j]);
  };
  const auto rows = F::cross_entropy(m.forward(cand_x), cand_y, F::CrossEntropyFuncOptions().reduction(torch::kNone));
  step((rows * q).sum() / double(cand_x.size(0)));
  torch::Tensor back_y;
  {
    torch::NoGradGuard no_grad;
    back_y = m.forward(cur_x).argmax(1);
  }
  step(F::cross_entropy(m.forward(cur_x), back_y));
  double loss;
  {
    torch::NoGradGuard no_grad;
    loss = F::cross_entropy(m.forward(cur_x), cur_y).item<double>();
    for (std::size_t j = 0; j < params.size(); ++j) params[j].copy_(saved[j]);
  }
  return loss;
}

TEST(IdolRefinement, CycleGradientEqualsFiniteDifferencesOfTheUnrolledRoundTrip) {
  auto m = tanh_net(5);
  torch::manual_seed(6);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat64);
  const auto cur_x = torch::randn({9, 2}, opts), cand_x = torch::randn({7, 2}, opts);
  const auto cur_y = torch::randint(0, 3, {9}, torch::kInt64), cand_y = torch::randint(0, 3, {7}, torch::kInt64);
  const auto q = torch::rand({7}, opts);
  const double alpha = 0.5;
  // Chunks of 4 rows: the per-chunk sums must add up to the whole.
  const auto g = cycle_gradient(*m, cur_x, cur_y, cand_x, cand_y, q, alpha, 4);
  ASSERT_EQ(g.size(0), 7);
  const double eps = 1e-6;
  double largest = 0;
  for (int i = 0; i < 7; ++i) {
    auto up = q.clone(), down = q.clone();
    up[i] += eps, down[i] -= eps;
    const double fd = (round_trip_loss(*m, cur_x, cur_y, cand_x, cand_y, up, alpha) -
                       round_trip_loss(*m, cur_x, cur_y, cand_x, cand_y, down, alpha)) / (2 * eps);
    EXPECT_NEAR(g[i].item<double>(), fd, 1e-7 + 1e-5 * std::abs(fd)) << "candidate " << i;
    largest = std::max(largest, std::abs(fd));
  }
  EXPECT_GT(largest, 1e-4);  // the check is not of zeros
  // The model keeps its weights: the gradient is the same when asked again.
  EXPECT_TRUE(torch::equal(g, cycle_gradient(*m, cur_x, cur_y, cand_x, cand_y, q, alpha, 4)));
}

TEST(IdolRefinement, RowsThatContradictTheCurrentDomainAreNotWanted) {
  // A model fitted to the current domain (labels from a linear rule); candidates: the
  // domain's own rows with its labels, and the same rows with the labels shifted by one
  // class. Raising the weight of a contradicting row raises the round trip's loss, and more
  // than raising an agreeing one does.
  auto m = tanh_net(7);
  torch::manual_seed(8);
  const auto x = torch::randn({30, 2}, torch::TensorOptions().dtype(torch::kFloat64));
  const auto y = x.matmul(torch::tensor({{1.0, -1.0, 0.0}, {0.0, 1.0, -1.0}}, torch::kFloat64)).argmax(1);
  torch::optim::Adam fit(m->parameters(), torch::optim::AdamOptions(0.05));
  for (int step = 0; step < 300; ++step) {
    fit.zero_grad();
    torch::nn::functional::cross_entropy(m->forward(x), y).backward();
    fit.step();
  }
  const auto cand_x = torch::cat({x, x}), cand_y = torch::cat({y, (y + 1) % 3});
  const auto g = cycle_gradient(*m, x, y, cand_x, cand_y, torch::ones({60}, torch::kFloat64), 0.1, 256);
  const double agree = g.slice(0, 0, 30).mean().item<double>(), contradict = g.slice(0, 30, 60).mean().item<double>();
  EXPECT_GT(contradict, 0.0);
  EXPECT_LT(agree, contradict);
}

TEST(IdolRefinement, ScoresCutIntoTheChosenDomainsDeterministicallyWithoutTouchingTheGlobalGenerator) {
  auto m = tanh_net(9, torch::kFloat32);  // as the pipeline's models (a copy is made in float32)
  torch::manual_seed(10);
  const auto opts = torch::TensorOptions().dtype(torch::kFloat32);
  const auto source_x = torch::randn({20, 2}, opts), pool_x = torch::randn({23, 2}, opts);
  const auto source_y = torch::randint(0, 3, {20}, torch::kInt64);
  std::vector<double> coarse(23);
  for (int i = 0; i < 23; ++i) coarse[i] = double((i * 7) % 23);
  IdolSettings s;
  s.epochs = 2, s.proxy_batch = 8, s.chunk = 8;
  const auto before = snapshot(m->parameters());
  auto gen = at::detail::getDefaultCPUGenerator();
  const auto state = gen.get_state();
  const auto scores = idol_scores(*m, source_x, source_y, pool_x, coarse, 3, s, 11);
  const auto draw_after = torch::rand({4});
  gen.set_state(state);
  EXPECT_TRUE(torch::equal(draw_after, torch::rand({4}))) << "idol_scores moved the global generator";
  // Places 0…22, each once: 3 domains of 7, then the 2 rows left over.
  auto sorted = scores;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 23; ++i) EXPECT_EQ(sorted[i], double(i));
  EXPECT_EQ(scores, idol_scores(*m, source_x, source_y, pool_x, coarse, 3, s, 11));
  const auto after = snapshot(m->parameters());
  for (std::size_t j = 0; j < before.size(); ++j) EXPECT_TRUE(torch::equal(before[j], after[j]));
}

TEST(DiscoveredEndToEnd, IdolRefinesTheDiscriminatorsOrderThroughTheRealPipeline) {
  const std::string dir = temp_dir("discovered_idol");
  std::string text = tiny_config(3) + "\n";
  text.replace(text.find("generator = \"rotation\""), 22,
               "generator = \"discovered\"\norder_by = \"idol\"\nrounds = 6\nrefine_epochs = 2");
  const auto summary = run_experiment(parse_config(text, "tiny.toml"), {dir, nullptr});
  ASSERT_EQ(summary.status, RunStatus::ok) << summary.error;
  const auto domain_of =
      expect_equal_domains_of_increasing_angle(dir, "pool_index,score,domain,true_domain,coarse_score");
  // The refinement moved rows: some row is not in the domain the coarse order cuts it into.
  std::ifstream in(dir + "/discovered_order.csv");
  std::string line;
  std::getline(in, line);
  std::vector<double> coarse;
  while (std::getline(in, line)) coarse.push_back(std::stod(line.substr(line.rfind(',') + 1)));
  ASSERT_EQ(coarse.size(), domain_of.size());
  const auto by_coarse = order_by_score(coarse);
  int moved = 0;
  for (std::size_t place = 0; place < by_coarse.size(); ++place)
    moved += domain_of[std::size_t(by_coarse[place])] != int(place / 100) + 1;
  EXPECT_GT(moved, 0);
  std::ifstream stages(dir + "/stages.jsonl");
  std::getline(stages, line);
  std::getline(stages, line);
  const auto found1 = nlohmann::json::parse(line);
  EXPECT_EQ(found1["domain"], "found1");
  EXPECT_GT(found1["discovered_order_tau"].get<double>(), 0.3);
}

}  // namespace
}  // namespace gda::test
