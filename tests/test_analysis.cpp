// [analysis]: sharpness and similarity against closed forms (not numbers from the code
// under test), then end to end through a tiny run.
#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "pipeline/config.h"
#include "pipeline/run.h"
#include "pipeline/sweep/rank_correlation.h"
#include "stages/analysis/analysis.h"
#include "stages/analysis/sharpness.h"
#include "stages/analysis/similarity.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

torch::Tensor f64(std::vector<double> v) { return torch::tensor(v, torch::kFloat64); }

/// H = Q·diag(1, 2, 3, 5)·Qᵀ with Q = I − 2uuᵀ/(uᵀu), u = (1, 1, 1, 1): a Householder
/// reflection, so Q is orthogonal and H's eigenvalues are exactly 1, 2, 3 and 5. Entrywise
/// Q = I − J/2 (J all ones): H_ij = Σ_k Q_ik λ_k Q_kj = λ_i δ_ij − (λ_i + λ_j)/2 + Σλ/4, Σλ = 11.
torch::Tensor known_hessian() {
  const std::vector<double> lambda = {1, 2, 3, 5};
  auto h = torch::zeros({4, 4}, torch::kFloat64);
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      h[i][j] = (i == j ? lambda[i] : 0.0) - (lambda[i] + lambda[j]) / 2 + 11.0 / 4;
  return h;
}

/// L(w) = ½(w − c)ᵀH(w − c) + quartic·Σ(w − c)⁴ over one float64 parameter w ∈ R⁴, at w = c
/// (the minimum; the quartic term is 0 there, with zero gradient and Hessian).
struct Quadratic {
  Quadratic(torch::Tensor hessian, torch::Tensor centre, double quartic = 0)
      : h(std::move(hessian)), c(std::move(centre)), w(c.clone().requires_grad_(true)), q(quartic) {}
  LossSurface surface() {
    return LossSurface({w}, [this](std::size_t) {
      const auto d = w - c;
      return 0.5 * d.dot(h.matmul(d)) + q * d.pow(4).sum();
    });
  }
  torch::Tensor h, c, w;
  double q;
};

TEST(Sharpness, PowerIterationFindsTheTopEigenvalueOfAKnownHessian) {
  Quadratic f(known_hessian(), f64({0.3, -1, 2, 0}));
  auto gen = analysis_generator(7);
  const auto surface = f.surface();
  const TopEigenvalue top = top_hessian_eigenvalue(surface, 2000, 1e-13, gen);
  EXPECT_NEAR(top.value, 5.0, 1e-6);
  EXPECT_TRUE(top.converged);
  EXPECT_LT(top.iterations, 2000);
  EXPECT_EQ(surface.passes(), 3 * top.iterations);  // forward, backward, double backward per product
  // With too few iterations it says so.
  auto gen2 = analysis_generator(7);
  const TopEigenvalue short_run = top_hessian_eigenvalue(surface, 2, 1e-13, gen2);
  EXPECT_FALSE(short_run.converged);
  EXPECT_EQ(short_run.iterations, 2);
}

TEST(Sharpness, HutchinsonTraceIsWithinItsStatedStatisticalTolerance) {
  Quadratic f(known_hessian(), f64({0, 0, 0, 0}));
  // Per probe, Var(zᵀHz) = 2·Σ_{i≠j} H_ij² for Rademacher z: from H's entries, by hand.
  const auto h = known_hessian();
  double off = 0;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j)
      if (i != j) off += std::pow(h[i][j].item<double>(), 2);
  const int probes = 400;
  const double tolerance = 4 * std::sqrt(2 * off / probes);  // 4 standard errors
  auto gen = analysis_generator(11);
  const double trace = hessian_trace(f.surface(), probes, gen);
  EXPECT_NEAR(trace, 11.0, tolerance);
  EXPECT_NE(trace, 11.0);  // an estimate, not the exact trace (H is not diagonal)
  // A diagonal Hessian has zero variance: exact with one probe.
  Quadratic diag(torch::diag(f64({1, 2, 3, 5})), f64({0, 0, 0, 0}));
  auto gen2 = analysis_generator(3);
  EXPECT_NEAR(hessian_trace(diag.surface(), 1, gen2), 11.0, 1e-12);
}

TEST(Sharpness, AverageCaseIsSigmaSquaredTraceOverTwo) {
  // On a quadratic E[L(w + e)] − L(w) = σ²·tr(H)/2 exactly at any w; the estimate's standard
  // error is σ²·sqrt(tr(H²)/(2n)) with tr(H²) = 1 + 4 + 9 + 25 = 39.
  const double sigma = 0.1;
  const int draws = 2000;
  Quadratic f(known_hessian(), f64({1, 2, 3, 4}));
  auto gen = analysis_generator(5);
  const double expected = sigma * sigma * 11 / 2;
  EXPECT_NEAR(average_case_sharpness(f.surface(), sigma, draws, gen), expected,
              4 * sigma * sigma * std::sqrt(39.0 / (2 * draws)));
  // Beyond the quadratic, for small σ: the quartic term adds 3σ⁴·q·4, negligible at σ = 1e-3.
  Quadratic g(known_hessian(), f64({1, 2, 3, 4}), 10.0);
  auto gen2 = analysis_generator(5);
  const double small = 1e-3;
  EXPECT_NEAR(average_case_sharpness(g.surface(), small, draws, gen2), small * small * 11 / 2,
              4 * small * small * std::sqrt(39.0 / (2 * draws)) + 12 * 10.0 * std::pow(small, 4));
}

TEST(Sharpness, WorstCaseAtAMinimumIsRhoSquaredLambdaMaxOverTwo) {
  // At the minimum the gradient is 0: the ascent starts in a random direction and climbs
  // to the top eigenvector, where L = ρ²·λ_max/2 (+ the quartic term, O(ρ⁴)).
  for (double quartic : {0.0, 10.0}) {
    Quadratic f(known_hessian(), f64({0.5, 0, -1, 0}), quartic);
    const double rho = 1e-3;
    auto gen = analysis_generator(9);
    const auto surface = f.surface();
    const double sharpness = worst_case_sharpness(surface, {rho, 300, false, 0}, gen);
    EXPECT_NEAR(sharpness, rho * rho * 5 / 2, 1e-4 * rho * rho * 5 / 2) << "quartic " << quartic;
    EXPECT_EQ(surface.passes(), 2 * (1 + 300));  // a gradient at w, then one per step
    // The weights are exactly as they were.
    EXPECT_TRUE(torch::equal(f.w.detach(), f.c));
  }
}

TEST(Sharpness, AdaptiveWorstCaseScalesTheBallByTheWeights) {
  // H = diag(1, 4) at w = (2, 0.5), eta = 0: e = T·u with T = |w| = diag(2, 0.5), so the
  // maximum over ||u|| ≤ ρ is ρ²·λ_max(THT)/2 = ρ²·max(4·1, 0.25·4)/2 = 2ρ².
  Quadratic f(torch::diag(f64({1, 4})), f64({2, 0.5}));
  const double rho = 0.1;
  auto gen = analysis_generator(1);
  EXPECT_NEAR(worst_case_sharpness(f.surface(), {rho, 200, true, 0.0}, gen), 2 * rho * rho, 1e-8);
  Quadratic g(torch::diag(f64({1, 4})), f64({4, 0.5}));  // T = diag(4, 0.5): 16·1 beats 0.25·4
  auto gen3 = analysis_generator(1);
  EXPECT_NEAR(worst_case_sharpness(g.surface(), {rho, 200, true, 0.0}, gen3), 8 * rho * rho, 1e-8);
  // SAM's ball at the same point ignores the weights' sizes: ρ²·λ_max(H)/2 = 2ρ².
  auto gen2 = analysis_generator(1);
  EXPECT_NEAR(worst_case_sharpness(g.surface(), {rho, 200, false, 0.0}, gen2), 2 * rho * rho, 1e-8);
}

TEST(Sharpness, WorstCaseAwayFromAMinimumStartsWithSamsStep) {
  // One step (SAM's point) on L = ½·wᵀw from w = (3, 4): e = ρ·w/|w|, so the increase is
  // ½(|w| + ρ)² − ½|w|² = ρ|w| + ρ²/2.
  Quadratic f(torch::eye(2, torch::kFloat64), f64({0, 0}));
  f.w = f64({3, 4}).requires_grad_(true);
  auto gen = analysis_generator(0);
  EXPECT_NEAR(worst_case_sharpness(f.surface(), {0.1, 1, false, 0}, gen), 0.1 * 5 + 0.005, 1e-12);
}

/// The slow U-statistic HSIC (Song et al. 2012, eq. 5's expectation form) by loops over
/// distinct index tuples: (1/(n)₂)Σ k_ij l_ij + (1/(n)₄)Σ k_ij l_qr − (2/(n)₃)Σ k_ij l_iq.
double slow_unbiased_hsic(const torch::Tensor& k, const torch::Tensor& l) {
  const int n = int(k.size(0));
  auto K = [&](int i, int j) { return k[i][j].item<double>(); };
  auto L = [&](int i, int j) { return l[i][j].item<double>(); };
  double a = 0, b = 0, c = 0;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      a += K(i, j) * L(i, j);
      for (int q = 0; q < n; ++q) {
        if (q == i || q == j) continue;
        c += K(i, j) * L(i, q);
        for (int r = 0; r < n; ++r)
          if (r != i && r != j && r != q) b += K(i, j) * L(q, r);
      }
    }
  const double n2 = n * (n - 1.0), n3 = n2 * (n - 2), n4 = n3 * (n - 3);
  return a / n2 + b / n4 - 2 * c / n3;
}

TEST(Similarity, LinearCkaOfAHandComputedThreeByTwoExample) {
  // X = [[1,0],[0,1],[-1,-1]], Y = [[1,0],[0,0],[-1,0]], both centred already:
  // XᵀX = [[2,1],[1,2]] (|·|_F = √10), YᵀY = [[2,0],[0,0]] (|·|_F = 2), YᵀX = [[2,1],[0,0]]
  // (|·|_F² = 5), so CKA = 5 / (2√10) = √10/4.
  const auto x = torch::tensor({{1.0, 0.0}, {0.0, 1.0}, {-1.0, -1.0}}, torch::kFloat64);
  const auto y = torch::tensor({{1.0, 0.0}, {0.0, 0.0}, {-1.0, 0.0}}, torch::kFloat64);
  const double expected = std::sqrt(10.0) / 4;
  EXPECT_NEAR(cka(linear_gram(x), linear_gram(y), HsicEstimator::biased), expected, 1e-12);
  // Centring is the estimator's: shifted features give the same value.
  EXPECT_NEAR(cka(linear_gram(x + 5), linear_gram(y - 3), HsicEstimator::biased), expected, 1e-12);
}

TEST(Similarity, CkaIsOneForTheSameFeaturesAndInvariantAsItShouldBe) {
  torch::manual_seed(0);
  const auto x = torch::randn({40, 6}, torch::kFloat64);
  const auto q = std::get<0>(torch::linalg_qr(torch::randn({6, 6}, torch::kFloat64)));  // orthogonal
  const auto general = torch::diag(f64({1, 10, 0.1, 3, 1, 1})) + 0.5 * torch::ones({6, 6}, torch::kFloat64);
  for (auto estimator : {HsicEstimator::biased, HsicEstimator::unbiased}) {
    const auto kx = linear_gram(x);
    EXPECT_NEAR(cka(kx, kx, estimator), 1.0, 1e-12);
    EXPECT_NEAR(cka(kx, linear_gram(x.matmul(q)), estimator), 1.0, 1e-10);  // orthogonal map
    EXPECT_NEAR(cka(kx, linear_gram(3.7 * x), estimator), 1.0, 1e-12);       // isotropic scaling
    EXPECT_LT(cka(kx, linear_gram(x.matmul(general)), estimator), 0.99);    // not a general linear map
    const auto rx = rbf_gram(x, 0.8);
    EXPECT_NEAR(cka(rx, rx, estimator), 1.0, 1e-12);
    EXPECT_NEAR(cka(rx, rbf_gram(x.matmul(q), 0.8), estimator), 1.0, 1e-10);
    EXPECT_NEAR(cka(rx, rbf_gram(3.7 * x, 0.8), estimator), 1.0, 1e-10);  // the bandwidth follows the median
    EXPECT_LT(cka(rx, rbf_gram(x.matmul(general), 0.8), estimator), 0.99);
  }
}

TEST(Similarity, RbfGramUsesTheMedianDistance) {
  // Rows 0, 3 and 4 on a line: distances 3, 4, 1 → median 3, σ = 0.5·3.
  const auto x = f64({0, 3, 4}).unsqueeze(1);
  const auto k = rbf_gram(x, 0.5);
  EXPECT_NEAR(k[0][1].item<double>(), std::exp(-9 / (2 * 1.5 * 1.5)), 1e-12);
  EXPECT_NEAR(k[1][2].item<double>(), std::exp(-1 / (2 * 1.5 * 1.5)), 1e-12);
  EXPECT_DOUBLE_EQ(k[2][2].item<double>(), 1.0);
}

TEST(Similarity, UnbiasedHsicMatchesTheSlowDirectFormula) {
  torch::manual_seed(3);
  const auto x = torch::randn({7, 3}, torch::kFloat64), y = torch::randn({7, 2}, torch::kFloat64) + x.slice(1, 0, 2);
  for (const auto& [k, l] : {std::pair{linear_gram(x), linear_gram(y)}, std::pair{rbf_gram(x, 1.0), rbf_gram(y, 1.0)}})
    EXPECT_NEAR(hsic(k, l, HsicEstimator::unbiased), slow_unbiased_hsic(k, l), 1e-10);
  // The biased estimator against its matrix form tr(K·C·L·C)/(n − 1)².
  const auto k = linear_gram(x), l = linear_gram(y);
  const auto c = torch::eye(7, torch::kFloat64) - torch::ones({7, 7}, torch::kFloat64) / 7;
  EXPECT_NEAR(hsic(k, l, HsicEstimator::biased), k.matmul(c).matmul(l).matmul(c).trace().item<double>() / 36, 1e-10);
}

TEST(RankCorrelation, SpearmanWithTiesAndItsPValueAgainstClosedForms) {
  EXPECT_EQ(mean_ranks({10, 20, 20, 30}), (std::vector<double>{1, 2.5, 2.5, 4}));
  // x = 1…5, y = 2, 1, 4, 3, 5: rank differences −1, 1, −1, 1, 0, Σd² = 4, ρ = 1 − 6·4/(5·24) = 0.8.
  const auto r = spearman({1, 2, 3, 4, 5}, {2, 1, 4, 3, 5});
  ASSERT_TRUE(r);
  EXPECT_NEAR(r->rho, 0.8, 1e-12);
  // t = ρ·sqrt(3/(1 − ρ²)) with 3 degrees of freedom, whose CDF has a closed form:
  // F(t) = ½ + (1/π)·(t/(√3·(1 + t²/3)) + atan(t/√3)), so p = 2(1 − F(t)).
  const double t = 0.8 * std::sqrt(3 / (1 - 0.64));
  const double p = 1 - (2 / M_PI) * (t / (std::sqrt(3.0) * (1 + t * t / 3)) + std::atan(t / std::sqrt(3.0)));
  EXPECT_NEAR(r->p_value, p, 1e-9);
  EXPECT_NEAR(spearman({1, 2, 3}, {3, 2, 1})->rho, -1.0, 1e-12);
  EXPECT_FALSE(spearman({1, 2}, {1, 2}));         // too few
  EXPECT_FALSE(spearman({1, 1, 1}, {1, 2, 3}));   // constant
}

TEST(AnalysisConfig, StagesAndListsAreReadAndCheckedWithTheirKeyNamed) {
  const std::string base = tiny_config(2);
  auto c = parse_config(base + "\n[analysis]\nstages = [0, 2]\ndomains = [\"target\"]\n", "a.toml");
  const auto s = AnalysisSettings::from(c.section("analysis"));
  EXPECT_TRUE(s.selects(0, false));
  EXPECT_FALSE(s.selects(1, false));
  EXPECT_TRUE(s.selects(2, false));
  EXPECT_EQ(s.domains, std::vector<std::string>{"target"});
  // The resolved config stores the list comma-joined and reads back the same.
  EXPECT_EQ(parse_config(c.to_toml(), "r.toml").hash(), c.hash());
  EXPECT_FALSE(AnalysisSettings::from(parse_config(base, "b.toml").section("analysis")).on());
  const auto last = AnalysisSettings::from(parse_config(base + "\n[analysis]\nstages = \"last\"\n", "l.toml").section("analysis"));
  EXPECT_TRUE(last.selects(3, true));
  EXPECT_FALSE(last.selects(2, false));
  auto refused = [&](const std::string& section, const std::string& needle) {
    try {
      parse_config(base + "\n[analysis]\n" + section + "\n", "bad.toml");
      ADD_FAILURE() << section << " was accepted";
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("bad.toml"), std::string::npos) << e.what();
    }
  };
  refused("stages = [\"last\", 1]", "stands alone");
  refused("stages = [\"first\"]", "is not a stage");
  refused("domains = [\"train\", \"pool\"]", "analysis.domains");
  refused("domains = [\"train\", \"train\"]", "twice");
  refused("sharpness = [1.5]", "must be an array");
  refused("samples = 2", "analysis.samples");
}

std::vector<nlohmann::json> stage_lines(const std::string& dir) {
  std::vector<nlohmann::json> v;
  std::ifstream in(dir + "/stages.jsonl");
  for (std::string line; std::getline(in, line);) v.push_back(nlohmann::json::parse(line));
  return v;
}

TEST(AnalysisEndToEnd, EveryMeasurementForEveryStageAndDomainAndTheSameAccuracies) {
  const std::string analysis =
      "[analysis]\nstages = \"all\"\nsamples = 24\nsharpness = [\"worst_case\", \"adaptive_worst_case\", "
      "\"average_case\", \"lambda_max\", \"trace\"]\nascent_steps = 2\nnoise_draws = 2\npower_iterations = 3\n"
      "trace_probes = 2\nsimilarity = [\"linear_cka\", \"rbf_cka\"]\nhsic = \"unbiased\"\n";
  const auto off_dir = temp_dir("analysis-off"), on_dir = temp_dir("analysis-on");
  const auto off = run_experiment(parse_config(tiny_config(2), "tiny.toml"), {off_dir, nullptr});
  const auto on = run_experiment(parse_config(tiny_config(2) + "\n" + analysis, "tiny.toml"), {on_dir, nullptr});
  ASSERT_EQ(off.status, RunStatus::ok);
  ASSERT_EQ(on.status, RunStatus::ok);
  const auto a = stage_lines(off_dir), b = stage_lines(on_dir);
  ASSERT_EQ(a.size(), 4u);
  ASSERT_EQ(b.size(), 4u);
  const std::vector<std::string> sharpness = {"loss",        "worst_case", "adaptive_worst_case", "average_case",
                                              "lambda_max", "lambda_max_iterations", "trace"};
  for (std::size_t k = 0; k < 4; ++k) {
    // Bit for bit: accuracies are written with full precision, and the losses too.
    EXPECT_EQ(a[k]["accuracy"].dump(), b[k]["accuracy"].dump()) << "stage " << k;
    EXPECT_EQ(a[k]["loss"].dump(), b[k]["loss"].dump()) << "stage " << k;
    EXPECT_FALSE(a[k].contains("analysis"));
    ASSERT_TRUE(b[k].contains("analysis")) << "stage " << k;
    for (const std::string domain : {"train", "source", "target"}) {
      const auto& m = b[k]["analysis"][domain];
      for (const auto& name : sharpness) EXPECT_TRUE(m.contains(name)) << k << " " << domain << " " << name;
      for (const std::string kind : {"linear_cka", "rbf_cka"})
        for (const std::string rep : {"features", "logits"}) {
          EXPECT_TRUE(m.contains(kind + "_" + rep + "_source")) << k << domain << kind << rep;
          // Stage 0 has no teacher.
          EXPECT_EQ(m.contains(kind + "_" + rep + "_teacher"), k > 0) << k << domain << kind << rep;
        }
      EXPECT_GT(m["worst_case"].get<double>(), 0.0);  // the loss rises somewhere in the ball
      EXPECT_GE(m["lambda_max_iterations"].get<double>(), 1.0);
    }
    // The source model compared with itself.
    if (k == 0) EXPECT_NEAR(b[0]["analysis"]["target"]["linear_cka_features_source"].get<double>(), 1.0, 1e-9);
  }
  EXPECT_EQ(*off.final_target_accuracy, *on.final_target_accuracy);
  EXPECT_NE(read_text(on_dir + "/table.md").find("### Analysis"), std::string::npos);
  const auto summary = nlohmann::json::parse(read_text(on_dir + "/summary.json"));
  EXPECT_GT(summary["seconds"]["analysis"].get<double>(), 0.0);
}

TEST(AnalysisEndToEnd, LastStageOnlyAndTheSameMeasurementsTwice) {
  const std::string cfg = tiny_config(2) + "\n[analysis]\nstages = \"last\"\nsamples = 16\ndomains = [\"target\"]\n";
  const auto d1 = temp_dir("analysis-last1"), d2 = temp_dir("analysis-last2");
  run_experiment(parse_config(cfg, "t.toml"), {d1, nullptr});
  run_experiment(parse_config(cfg, "t.toml"), {d2, nullptr});
  const auto a = stage_lines(d1), b = stage_lines(d2);
  ASSERT_EQ(a.size(), 4u);
  for (std::size_t k = 0; k < 3; ++k) EXPECT_FALSE(a[k].contains("analysis")) << k;
  ASSERT_TRUE(a[3].contains("analysis"));
  EXPECT_EQ(a[3]["analysis"].size(), 1u);  // the target alone
  // Deterministic for a seed; the double-backward measurements (lambda_max, trace) may differ
  // in their last digits between runs on the CPU (docs/ANALYSIS.md).
  for (const auto& [name, value] : a[3]["analysis"]["target"].items())
    EXPECT_NEAR(b[3]["analysis"]["target"][name].get<double>(), value.get<double>(), 1e-7 * std::abs(value.get<double>()))
        << name;
}

}  // namespace
}  // namespace gda::test
