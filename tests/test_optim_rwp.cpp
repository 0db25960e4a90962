// RWP, base sgd, lr 0.1. The noise is random, so each test fixes the seed, draws the same
// standard normals again (the optimizer draws randn_like per parameter tensor, in order, right
// before its noisy pass; nothing else draws in between on these models) and checks the
// closed-form step for that draw: the property holds for any draw, and the draw is checked to
// be non-trivial. The closed forms are worked out in the comments.
#include <cmath>

#include "tests/helpers.h"

namespace gda::test {
namespace {

/// out = x·Wᵀ with one 2×2 parameter "weight" (rows = output units, as nn::Linear).
class LinearModel : public Model {
 public:
  explicit LinearModel(torch::Tensor w0) { w = register_parameter("weight", std::move(w0)); }
  torch::Tensor encode(const torch::Tensor& x) override { return torch::matmul(x, w.t()); }
  torch::Tensor head(const torch::Tensor& z) override { return z; }
  torch::Tensor w;
};

Params rwp_params(double sigma, double alpha, const std::string& noise) {
  return optimizer_params(
      "rwp", "sgd", {{"lr", 0.1}, {"sigma", sigma}, {"alpha", alpha}, {"noise", std::string(noise)}});
}

TEST(Rwp, GaussianStepUsesTheGradientAtTheNoisyWeightsAndRemovesTheNoise) {
  // Quadratic L(w) = 2·w1² + 0.5·w2², ∇L = [4·w1, w2], from w = [1, 1]; sigma 0.1, alpha 1.
  // n = 0.1·z, z ~ N(0, I): ∇L(w + n) = [4·(1 + n1), 1 + n2];
  // w ← w − 0.1·∇L(w + n) = [1 − 0.4·(1 + n1), 1 − 0.1·(1 + n2)] (the noise not left in w).
  // The returned loss is the one at w + n: 2·(1 + n1)² + 0.5·(1 + n2)².
  torch::manual_seed(3);
  const auto z = torch::randn({2});
  const double n1 = 0.1 * z[0].item<double>(), n2 = 0.1 * z[1].item<double>();
  ASSERT_GT(z.abs().min().item<double>(), 1e-3);  // a visible draw: 0.4·0.1·1e-3 ≫ 1e-6
  torch::manual_seed(3);
  ElementwiseModel m({1, 1});
  auto opt = make_optimizer(m.parameters(), rwp_params(0.1, 1.0, "gaussian"));
  auto ctx = quadratic_context(m);
  const double loss = opt->step(ctx).item<double>();
  EXPECT_NEAR(m.w[0].item<double>(), 1 - 0.4 * (1 + n1), 1e-6);
  EXPECT_NEAR(m.w[1].item<double>(), 1 - 0.1 * (1 + n2), 1e-6);
  EXPECT_NEAR(loss, 2 * (1 + n1) * (1 + n1) + 0.5 * (1 + n2) * (1 + n2), 1e-5);
}

TEST(Rwp, MixedStepAveragesTheNoisyAndTheCleanGradient) {
  // alpha 0.5: d = 0.5·∇L(w + n) + 0.5·∇L(w) = [4 + 2·n1, 1 + 0.5·n2];
  // w = [1 − 0.1·(4 + 2·n1), 1 − 0.1·(1 + 0.5·n2)]; the returned loss is L(w) = 2.5.
  torch::manual_seed(4);
  const auto z = torch::randn({2});
  const double n1 = 0.1 * z[0].item<double>(), n2 = 0.1 * z[1].item<double>();
  ASSERT_GT(z.abs().min().item<double>(), 1e-3);
  torch::manual_seed(4);
  ElementwiseModel m({1, 1});
  auto opt = make_optimizer(m.parameters(), rwp_params(0.1, 0.5, "gaussian"));
  auto ctx = quadratic_context(m);
  EXPECT_NEAR(opt->step(ctx).item<double>(), 2.5, 1e-6);
  EXPECT_NEAR(m.w[0].item<double>(), 1 - 0.1 * (4 + 2 * n1), 1e-6);
  EXPECT_NEAR(m.w[1].item<double>(), 1 - 0.1 * (1 + 0.5 * n2), 1e-6);
}

TEST(Rwp, FilterNoiseScalesWithEachOutputRowsNorm) {
  // W = [[3, 4], [0, 1]]: row norms 5 and 1 (column norms would be 3 and √17). One sample
  // x = [1, 0], target 0: out = W·x = [W00, W10], L = 0.5·(W00² + W10²),
  // ∇L = [[W00, 0], [W10, 0]]. sigma 0.1, noise "filter": n_r = 0.1·||W_r||·z_r, so
  // n00 = 0.5·z00, n10 = 0.1·z10. ∇L(W + n) = [[3 + n00, 0], [n10, 0]];
  // W ← [[3 − 0.1·(3 + n00), 4], [−0.1·n10, 1]] (the second column untouched: noise removed).
  torch::manual_seed(5);
  const auto z = torch::randn({2, 2});
  ASSERT_GT(z.abs().min().item<double>(), 1e-3);
  const double n00 = 0.5 * z[0][0].item<double>(), n10 = 0.1 * z[1][0].item<double>();
  torch::manual_seed(5);
  LinearModel m(torch::tensor({{3.0f, 4.0f}, {0.0f, 1.0f}}));
  auto opt = make_optimizer(m.parameters(), rwp_params(0.1, 1.0, "filter"));
  StepContext ctx(m, torch::tensor({{1.0f, 0.0f}}), torch::zeros({1, 2}), {}, half_squared_error);
  opt->step(ctx);
  EXPECT_NEAR(m.w[0][0].item<double>(), 3 - 0.1 * (3 + n00), 1e-6);
  EXPECT_NEAR(m.w[1][0].item<double>(), -0.1 * n10, 1e-6);
  EXPECT_NEAR(m.w[0][1].item<double>(), 4.0, 1e-6);
  EXPECT_NEAR(m.w[1][1].item<double>(), 1.0, 1e-6);
}

TEST(Rwp, FilterNoiseOnAVectorUsesItsWholeNorm) {
  // A 1-D tensor: std = sigma·(||w|| + 1e-16) = 0.1·√2 for w = [1, 1]; n = 0.1·√2·z;
  // quadratic step as in the gaussian test: w = [1 − 0.4·(1 + n1), 1 − 0.1·(1 + n2)].
  torch::manual_seed(6);
  const auto z = torch::randn({2});
  ASSERT_GT(z.abs().min().item<double>(), 1e-3);
  const double s = 0.1 * std::sqrt(2.0);
  const double n1 = s * z[0].item<double>(), n2 = s * z[1].item<double>();
  torch::manual_seed(6);
  ElementwiseModel m({1, 1});
  auto opt = make_optimizer(m.parameters(), rwp_params(0.1, 1.0, "filter"));
  auto ctx = quadratic_context(m);
  opt->step(ctx);
  EXPECT_NEAR(m.w[0].item<double>(), 1 - 0.4 * (1 + n1), 1e-6);
  EXPECT_NEAR(m.w[1].item<double>(), 1 - 0.1 * (1 + n2), 1e-6);
}

TEST(PassCounts, RwpUsesOnePassAloneAndTwoWhenMixingTheCleanGradient) {
  for (double alpha : {1.0, 0.5}) {
    ElementwiseModel m({1, 1});
    auto opt = make_optimizer(m.parameters(), rwp_params(0.01, alpha, "gaussian"));
    auto ctx = quadratic_context(m);
    opt->step(ctx);
    const std::int64_t expected = alpha < 1 ? 2 : 1;
    EXPECT_EQ(ctx.passes().forward, expected) << alpha;
    EXPECT_EQ(ctx.passes().backward, expected) << alpha;
    EXPECT_EQ(ctx.passes().backward_samples, expected) << alpha;
  }
}

}  // namespace
}  // namespace gda::test
