// mSAM on the elementwise model of helpers.h (out = x ⊙ w, per-sample loss 0.5·||out||²) with
// four samples a = [2, 1], b = [0, 2], c = [1, 0], d = [2, 0] (targets 0), from w = [1, 1];
// ∇l_i = [x_i1²·w1, x_i2²·w2]; base sgd, lr 0.1, rho 0.05. The expected numbers are worked out
// in the comments (and checked with plain-float Python), not produced by the code under test.
#include "tests/helpers.h"

namespace gda::test {
namespace {

torch::Tensor rows_abcd() {
  return torch::tensor({{2.0f, 1.0f}, {0.0f, 2.0f}, {1.0f, 0.0f}, {2.0f, 0.0f}});
}

struct MsamRun {
  MsamRun(std::int64_t m, torch::Tensor x)
      : model(std::vector<float>{1, 1}),
        opt(make_optimizer(model.parameters(),
                           optimizer_params("msam", "sgd", {{"lr", 0.1}, {"rho", 0.05}, {"m", m}}))) {
    StepContext ctx(model, x, torch::zeros({x.size(0), 2}), {}, half_squared_error);
    loss = opt->step(ctx).item<double>();
    passes = ctx.passes();
  }
  ElementwiseModel model;
  std::unique_ptr<Optimizer> opt;
  double loss = 0;
  PassCount passes;
};

TEST(Msam, EachMicroBatchAscendsAlongItsOwnGradientByHand) {
  // m = 2: B_1 = {a, b}, B_2 = {c, d} (contiguous).
  //   B_1: g_1 = (1/2)·[4·1, (1+4)·1] = [2, 2.5], ||g_1|| = 3.2015621,
  //        e_1 = 0.05·g_1/||g_1|| = [0.0312348, 0.0390434];
  //        h_1 = (1/2)·[4·1.0312348, 5·1.0390434] = [2.0624695, 2.5976086].
  //   B_2: g_2 = (1/2)·[(1+4)·1, 0] = [2.5, 0], e_2 = [0.05, 0] (its own direction: no w2 part);
  //        h_2 = (1/2)·[5·1.05, 0] = [2.625, 0].
  //   (h_1 + h_2)/2 = [2.3437348, 1.2988043]; w = [1 − 0.2343735, 1 − 0.1298804]
  //   = [0.7656265, 0.8701196]. Loss (L_1 + L_2)/2 = ((2.5 + 2)/2 + (0.5 + 2)/2)/2 = 1.75.
  // (SAM on the whole batch, one ascent from g = [2.25, 1.25], gives [0.7651657, 0.8719647];
  // one micro-batch per sample would give [0.7638993, 0.8696968].)
  MsamRun two(2, rows_abcd());
  expect_w(two, 0.7656265, 0.8701196);
  EXPECT_NEAR(two.loss, 1.75, 1e-6);
}

TEST(Msam, NoMicroBatchGetsFewerThanTwoSamples) {
  // n = 4, m = 4: m_eff = min(4, ⌊4/2⌋) = 2, the m = 2 step above (not one sample each).
  MsamRun four(4, rows_abcd());
  expect_w(four, 0.7656265, 0.8701196);
  EXPECT_EQ(four.passes.forward, 4);
  // n = 3 (a, b, c), m = 4: m_eff = min(4, ⌊3/2⌋) = 1, plain SAM on the three rows:
  //   g = (1/3)·[(4+0+1), (1+4+0)] = [5/3, 5/3], e = 0.05·[1, 1]/√2 = [0.0353553, 0.0353553];
  //   ∇L(w + e) = (5/3)·1.0353553 = 1.7255922 in both; w = 1 − 0.1725592 = 0.8274408.
  MsamRun three(4, torch::tensor({{2.0f, 1.0f}, {0.0f, 2.0f}, {1.0f, 0.0f}}));
  expect_w(three, 0.8274408, 0.8274408);
  EXPECT_EQ(three.passes.forward, 2);
  EXPECT_EQ(three.passes.forward_samples, 6);
}

TEST(PassCounts, MsamSpendsTwoPassesPerMicroBatchOnItsSamples) {
  // 2·m_eff forward and backward passes; every sample goes through two of each (2n, as SAM).
  struct Case {
    std::int64_t n, m, passes;
  };
  // m_eff = min(m, ⌊n/2⌋): (4, 4) → 2, (5, 4) → 2 (sizes 3, 2), (6, 4) → 3, (8, 4) → 4.
  for (const Case& c : {Case{4, 2, 4}, Case{4, 4, 4}, Case{5, 4, 4}, Case{6, 4, 6}, Case{8, 4, 8},
                        Case{4, 1, 2}}) {
    MsamRun r(c.m, torch::rand({c.n, 2}));
    expect_passes(r.passes, c.passes, c.passes, 2 * c.n, 2 * c.n,
                  "n " + std::to_string(c.n) + " m " + std::to_string(c.m));
  }
}

}  // namespace
}  // namespace gda::test
