// F-SAM (Friendly SAM) on the quadratic of helpers.h, L(w) = 2·w1² + 0.5·w2², ∇L = [4·w1, w2],
// from w = [1, 1]; base sgd, lr 0.1; rho 0.2, sigma 1, lambda 0.6 (the defaults). The expected
// numbers are worked out in the comments (and checked with plain-float Python), not produced by
// the code under test.
#include "tests/helpers.h"

namespace gda::test {
namespace {

Params friendly_params(const std::string& ema = "code") {
  return optimizer_params("friendly_sam", "sgd",
                          {{"lr", 0.1}, {"rho", 0.2}, {"sigma", 1.0}, {"lambda", 0.6}, {"ema", ema}});
}

// Step 1, both orders: the direction is along g_1 = [4, 1] (code: d = g_1; paper: d = g_1 − 0.4·g_1),
//   e = 0.2·[4, 1]/√17 = [0.1940285, 0.0485071]; g(w+e) = [4.7761140, 1.0485071];
//   w = [0.5223886, 0.8951493].
// Step 2: g_2 = [2.0895544, 0.8951493].

/// Both EMA orders share step 1 (above); step 2 must land at [w1, w2].
void expect_two_steps(const std::string& ema, double w1, double w2) {
  Stepper s(friendly_params(ema));
  s.step();
  expect_w(s, 0.5223886, 0.8951493);
  s.step();
  expect_w(s, w1, w2, 2e-6);
}

TEST(FriendlySam, TwoStepsWithTheCodesEma) {
  // code: m_1 = g_1 = [4, 1]; d_2 = g_2 − m_1 = [−1.9104456, −0.1048507] (m_2 = 0.6·m_1 + 0.4·g_2
  //   is kept for step 3); ||d_2|| = 1.9133207; e = 0.2·d_2/||d_2|| = [−0.1996995, −0.0109601];
  //   g(w+e) = [4·0.3226891, 0.8841892] = [1.2907565, 0.8841892];
  //   w = [0.5223886 − 0.1290757, 0.8951493 − 0.0884189] = [0.3933129, 0.8067304].
  expect_two_steps("code", 0.3933129, 0.8067304);
}

TEST(FriendlySam, TwoStepsWithThePapersEma) {
  // paper: m_1 = 0.4·g_1 = [1.6, 0.4]; m_2 = 0.6·m_1 + 0.4·g_2 = [1.7958218, 0.5980597];
  //   d_2 = g_2 − m_2 = [0.2937326, 0.2970896]; ||d_2|| = 0.4177811;
  //   e = [0.1406156, 0.1422226]; g(w+e) = [4·0.6630042, 1.0373719] = [2.6520166, 1.0373719];
  //   w = [0.5223886 − 0.2652017, 0.8951493 − 0.1037372] = [0.2571869, 0.7914121].
  expect_two_steps("paper", 0.2571869, 0.7914121);
}

TEST(PassCounts, FriendlySamUsesTwoForwardAndTwoBackward) {
  // Step 1 (the EMA starts) and step 2 (the EMA is subtracted) cost the same: w and w + e.
  Stepper s(optimizer_params("friendly_sam", "adam"));
  for (int t = 0; t < 2; ++t) {
    auto p = s.step();
    expect_passes(p, 2, 2, 2, 2, "step " + std::to_string(t));
  }
}

TEST(FriendlySam, SaveAndLoadKeepTheEma) {
  // A fresh optimizer loaded after step 1 must subtract the saved m_1 = g_1 at step 2 (without
  // it, step 2 would be another plain SAM step): the uninterrupted run's [0.3933129, 0.8067304].
  Stepper a(friendly_params());
  a.step();
  Stepper b(friendly_params());
  b.model.copy_state_from(a.model);
  round_trip(*a.opt, *b.opt);
  a.step();
  b.step();
  EXPECT_TRUE(torch::allclose(a.model.w, b.model.w));
  expect_w(b, 0.3933129, 0.8067304, 2e-6);
}

}  // namespace
}  // namespace gda::test
