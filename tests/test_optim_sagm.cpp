// SAGM on the quadratic of helpers.h, L(w) = 2·w1² + 0.5·w2², ∇L = [4·w1, w2]; base sgd,
// lr 0.1. The expected numbers are worked out in the comments (and checked with plain-float
// Python), not produced by the code under test.
#include "tests/helpers.h"

namespace gda::test {
namespace {

// alpha 0.1 (not the default 0.001) makes the descent step in the perturbation visible.
Params sagm_params(double rho, double alpha, bool adaptive = false) {
  return optimizer_params("sagm", "sgd",
                          {{"lr", 0.1}, {"rho", rho}, {"alpha", alpha}, {"adaptive", adaptive}});
}

TEST(Sagm, OneStepOverSgdByHand) {
  // From w = [1, 1]; rho 0.05, alpha 0.1. g = [4, 1], ||g|| = √17 = 4.1231056;
  // e = 0.05·g/||g|| − 0.1·g = [0.0485071 − 0.4, 0.0121268 − 0.1] = [−0.3514929, −0.0878732];
  // g_p = ∇L(w + e) = [4·0.6485071, 0.9121268] = [2.5940285, 0.9121268];
  // d = (g + g_p)/2 = [3.2970143, 0.9560634];  w = [1 − 0.3297014, 1 − 0.0956063]
  //   = [0.6702986, 0.9043937].
  // (SAM would give [0.5805971, 0.8987873].)
  Stepper s(sagm_params(0.05, 0.1), {1, 1});
  s.step();
  expect_w(s, 0.6702986, 0.9043937);
}

TEST(Sagm, AdaptiveNeighbourhoodOneStep) {
  // The code's adaptive form, e = rho·w²·g/||w·g|| − alpha·w²·g, from w = [0.5, 2]; rho 0.5,
  // alpha 0.1. g = [2, 2]; w²·g = [0.5, 8]; w·g = [1, 4], ||w·g|| = √17 = 4.1231056;
  // e = 0.5·[0.5, 8]/4.1231056 − 0.1·[0.5, 8] = [0.0606339 − 0.05, 0.9701425 − 0.8]
  //   = [0.0106339, 0.1701425];
  // g_p = ∇L(w + e) = [4·0.5106339, 2.1701425] = [2.0425356, 2.1701425];
  // d = (g + g_p)/2 = [2.0212678, 2.0850713];  w = [0.5 − 0.2021268, 2 − 0.2085071]
  //   = [0.2978732, 1.7914929].
  Stepper s(sagm_params(0.5, 0.1, true), {0.5f, 2.0f});
  s.step();
  expect_w(s, 0.2978732, 1.7914929);
}

TEST(PassCounts, SagmUsesTwoForwardAndTwoBackward) {
  Stepper s(optimizer_params("sagm", "adam"), {1, 1});
  auto p = s.step();
  expect_passes(p, 2, 2, 2, 2);
}

}  // namespace
}  // namespace gda::test
