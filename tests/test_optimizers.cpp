// One step (two where state matters) of each optimizer on the quadratic of helpers.h,
// L(w) = 2·w1² + 0.5·w2², ∇L = [4·w1, w2], from w = [1, 1]; lr 0.1 throughout. The
// expected numbers are worked out in the comments, not produced by the code under test.
#include "tests/helpers.h"

namespace gda::test {
namespace {

TEST(Sgd, PlainStep) {
  // g = [4, 1]; w = [1 - 0.1·4, 1 - 0.1·1] = [0.6, 0.9].
  Stepper s(optimizer_params("sgd", "sgd", {{"lr", 0.1}}));
  s.step();
  expect_w(s, 0.6, 0.9);
}

TEST(Sgd, NesterovMomentumWeightDecayTwoSteps) {
  // mu = 0.9, wd = 0.1: g' = ∇L + 0.1·w; buf1 = g'; buf_t = 0.9·buf + g'; d = g' + 0.9·buf.
  // step 1: g' = [4.1, 1.1], buf = [4.1, 1.1], d = [7.79, 2.09], w = [0.221, 0.791].
  // step 2: g' = [0.884 + 0.0221, 0.791 + 0.0791] = [0.9061, 0.8701];
  //         buf = [3.69 + 0.9061, 0.99 + 0.8701] = [4.5961, 1.8601];
  //         d = [0.9061 + 4.13649, 0.8701 + 1.67409] = [5.04259, 2.54419];
  //         w = [0.221 - 0.504259, 0.791 - 0.254419] = [-0.283259, 0.536581].
  Stepper s(optimizer_params("sgd", "sgd",
                             {{"lr", 0.1}, {"momentum", 0.9}, {"nesterov", true}, {"weight_decay", 0.1}}));
  s.step();
  expect_w(s, 0.221, 0.791);
  s.step();
  expect_w(s, -0.283259, 0.536581);
}

TEST(Adam, TwoStepsWithL2WeightDecay) {
  // wd 0.1 is added to the gradient. Step 1: g = [4.1, 1.1]; the bias-corrected m/√v = g/|g|
  // = 1 → w = [0.9, 0.9] (to 1e-9: eps = 1e-8).
  // Step 2 at w = 0.9: g = [3.69, 0.99]; m = 0.9·0.1·g1 + 0.1·g = [0.738, 0.198];
  // v = 0.999·0.001·g1² + 0.001·g² = [0.0304093, 0.0021889] (g1 = [4.1, 1.1]);
  // m̂ = m / 0.19 = [3.884211, 1.042105]; v̂ = v / 0.001999 = [15.21225, 1.094993];
  // m̂/√v̂ = 0.995878 in both coordinates → w = 0.9 − 0.0995878 = 0.8004122.
  Stepper s(optimizer_params("adam", "adam", {{"lr", 0.1}, {"weight_decay", 0.1}}));
  s.step();
  expect_w(s, 0.9, 0.9, 1e-6);
  s.step();
  expect_w(s, 0.8004122, 0.8004122, 2e-6);
}

TEST(AdamW, TwoStepsWithDecoupledWeightDecay) {
  // w ← w·(1 − lr·wd) then the Adam step on ∇L alone (wd = 0.1: factor 0.99).
  // Step 1: w = 0.99 − 0.1 = 0.89. Step 2: g = [3.56, 0.89]; m = [0.716, 0.179];
  // v = [0.0286576, 0.0017911]; m̂ = m/0.19 = [3.768421, 0.942105]; v̂ = v/0.001999 =
  // [14.33597, 0.895998]; m̂/√v̂ = 0.995281 → w = 0.89·0.99 − 0.0995281 = 0.7815719.
  Stepper s(optimizer_params("adamw", "adamw", {{"lr", 0.1}, {"weight_decay", 0.1}}));
  s.step();
  expect_w(s, 0.89, 0.89);
  s.step();
  expect_w(s, 0.7815719, 0.7815719, 2e-6);
}

TEST(Sam, OneStepOverSgd) {
  // g = [4, 1], ||g|| = √17 = 4.1231056; e = 0.05·g/||g|| = [0.0485071, 0.0121268];
  // g at w + e = [4·1.0485071, 1.0121268] = [4.1940285, 1.0121268];
  // w = [1 − 0.41940285, 1 − 0.10121268] = [0.5805971, 0.8987873].
  Stepper s(optimizer_params("sam", "sgd", {{"lr", 0.1}, {"rho", 0.05}}));
  s.step();
  expect_w(s, 0.5805971, 0.8987873);
}

TEST(PassCounts, BaseOptimizersUseOneForwardAndOneBackward) {
  for (const char* name : {"sgd", "adam", "adamw"}) {
    Stepper s(optimizer_params(name, name));
    auto p = s.step();
    EXPECT_EQ(p.forward, 1) << name;
    EXPECT_EQ(p.backward, 1) << name;
    EXPECT_EQ(p.forward_samples, 1) << name;
  }
}

TEST(PassCounts, SamUsesTwoForwardAndTwoBackward) {
  Stepper s(optimizer_params("sam", "adam"));
  auto p = s.step();
  EXPECT_EQ(p.forward, 2);
  EXPECT_EQ(p.backward, 2);
  EXPECT_EQ(p.backward_samples, 2);
}

TEST(StepContext, SubsetAndWeightsChangeTheLoss) {
  ElementwiseModel m({1, 1});
  // Two samples: x = [2, 1] (loss 2.5) and x = [0, 2] (loss 0.5·4 = 2).
  StepContext ctx(m, torch::tensor({{2.0f, 1.0f}, {0.0f, 2.0f}}), torch::zeros({2, 2}),
                  torch::tensor({1.0f, 3.0f}), half_squared_error);
  // Weighted mean: (1·2.5 + 3·2) / 4 = 2.125.
  EXPECT_NEAR(ctx.loss_and_grad().item<double>(), 2.125, 1e-6);
  // Only the second sample: loss 2, gradient [0, 4·w2] = [0, 4].
  EXPECT_NEAR(ctx.loss_and_grad(torch::tensor({1}, torch::kInt64)).item<double>(), 2.0, 1e-6);
  EXPECT_NEAR(m.w.grad()[1].item<double>(), 4.0, 1e-6);
  EXPECT_EQ(ctx.passes().forward, 2);
  EXPECT_EQ(ctx.passes().forward_samples, 3);
  EXPECT_EQ(ctx.passes().backward_samples, 3);
}

TEST(Optimizers, SaveAndLoadKeepsAdamState) {
  Stepper a(optimizer_params("adam", "adam", {{"lr", 0.1}}));
  a.step();
  Stepper b(optimizer_params("adam", "adam", {{"lr", 0.1}}));
  b.model.copy_state_from(a.model);
  round_trip(*a.opt, *b.opt);
  a.step();
  b.step();
  EXPECT_TRUE(torch::allclose(a.model.w, b.model.w));
}

}  // namespace
}  // namespace gda::test
