// Fisher SAM on the quadratic of helpers.h, L(w) = 2·w1² + 0.5·w2², ∇L = [4·w1, w2], from
// w = [1, 1]; base sgd, lr 0.1. The expected numbers are worked out in the comments (and
// checked with plain-float Python), not produced by the code under test.
#include "tests/helpers.h"

namespace gda::test {
namespace {

TEST(FisherSam, OneStepByHand) {
  // g = [4, 1]; eta = 1: f = 1 + g² = [17, 2]; f⁻¹g = [4/17, 1/2] = [0.2352941, 0.5];
  // gᵀf⁻¹g = 16/17 + 1/2 = 1.4411765, its root 1.2004901;
  // e = 0.1·[0.2352941, 0.5]/1.2004901 = [0.0195998, 0.0416497]
  //   (on the ellipsoid: sqrt(17·e1² + 2·e2²) = 0.1; SAM's e would be [0.0970143, 0.0242536]);
  // g at w + e = [4·1.0195998, 1.0416497] = [4.0783994, 1.0416497];
  // w = [1 − 0.4078399, 1 − 0.1041650] = [0.5921601, 0.8958350].
  ElementwiseModel m({1, 1});
  auto opt = make_optimizer(m.parameters(),
                            optimizer_params("fisher_sam", "sgd", {{"lr", 0.1}, {"rho", 0.1}, {"eta", 1.0}}));
  auto ctx = quadratic_context(m);
  auto loss = opt->step(ctx);
  EXPECT_NEAR(loss.item<double>(), 2.5, 1e-6);  // L at the starting w = [1, 1]
  EXPECT_NEAR(m.w[0].item<double>(), 0.5921601, 1e-6);
  EXPECT_NEAR(m.w[1].item<double>(), 0.8958350, 1e-6);
}

TEST(FisherSam, EtaZeroIsSam) {
  // f = 1: the ellipsoid is SAM's ball; with rho 0.05 this is the Sam.OneStepOverSgd step:
  // e = 0.05·[4, 1]/√17 = [0.0485071, 0.0121268]; w = [0.5805971, 0.8987873].
  ElementwiseModel m({1, 1});
  auto opt = make_optimizer(m.parameters(),
                            optimizer_params("fisher_sam", "sgd", {{"lr", 0.1}, {"rho", 0.05}, {"eta", 0.0}}));
  auto ctx = quadratic_context(m);
  opt->step(ctx);
  EXPECT_NEAR(m.w[0].item<double>(), 0.5805971, 1e-6);
  EXPECT_NEAR(m.w[1].item<double>(), 0.8987873, 1e-6);
}

TEST(PassCounts, FisherSamUsesTwoForwardAndTwoBackward) {
  // w and w + e, each on the whole batch of 2 samples; the Fisher costs no pass.
  ElementwiseModel m({1, 1});
  auto opt = make_optimizer(m.parameters(), optimizer_params("fisher_sam", "adam"));
  for (int t = 0; t < 2; ++t) {
    StepContext ctx(m, torch::tensor({{2.0f, 1.0f}, {0.0f, 2.0f}}), torch::zeros({2, 2}), {},
                    half_squared_error);
    opt->step(ctx);
    expect_passes(ctx.passes(), 2, 2, 4, 4, "step " + std::to_string(t));
  }
}

}  // namespace
}  // namespace gda::test
