// BSAM on the quadratic of helpers.h, L(w) = 2·w1² + 0.5·w2², ∇L = [4·w1, w2], from
// w = [1, 1]; base sgd, lr 0.1. The expected numbers are worked out in the comments (and
// checked with plain-float Python), not produced by the code under test.
#include "tests/helpers.h"

namespace gda::test {
namespace {

TEST(Bsam, OneStepByHand) {
  // rho_max 0.05 and rho_min 0.02 differ, so swapping them (or the signs) changes the result.
  // g = [4, 1], ||g|| = √17 = 4.1231056.
  // Max point: w + 0.05·g/||g|| = [1.0485071, 1.0121268]; g_max = [4.1940285, 1.0121268],
  //   ||g_max|| = 4.3144265.
  // Min point (along −g, the clean g): w − 0.02·g/||g|| = [0.9805971, 0.9951493];
  //   g_min = [3.9223886, 0.9951493], ||g_min|| = 4.0466597.
  // ratio = 4.3144265/4.0466597 = 1.0661698; ratio·g_min = [4.1819324, 1.0609982];
  // G = g_max + g − ratio·g_min = [8.1940285 − 4.1819324, 2.0121268 − 1.0609982]
  //   = [4.0120961, 0.9511286]; w = [1 − 0.4012096, 1 − 0.0951129] = [0.5987904, 0.9048871].
  ElementwiseModel m({1, 1});
  auto opt = make_optimizer(m.parameters(), optimizer_params("bsam", "sgd",
                                                             {{"lr", 0.1}, {"rho_max", 0.05}, {"rho_min", 0.02}}));
  auto ctx = quadratic_context(m);
  auto loss = opt->step(ctx);
  EXPECT_NEAR(loss.item<double>(), 2.5, 1e-6);  // L at the starting w = [1, 1]
  EXPECT_NEAR(m.w[0].item<double>(), 0.5987904, 1e-6);
  EXPECT_NEAR(m.w[1].item<double>(), 0.9048871, 1e-6);
}

TEST(PassCounts, BsamUsesThreeForwardAndThreeBackward) {
  // w, w + e_max, w − e_min, each on the whole batch (2 samples).
  ElementwiseModel m({1, 1});
  auto opt = make_optimizer(m.parameters(), optimizer_params("bsam", "adam"));
  StepContext ctx(m, torch::tensor({{2.0f, 1.0f}, {0.0f, 2.0f}}), torch::zeros({2, 2}), {},
                  half_squared_error);
  opt->step(ctx);
  expect_passes(ctx.passes(), 3, 3, 6, 6);
}

}  // namespace
}  // namespace gda::test
