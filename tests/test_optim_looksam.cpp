// LookSAM on the quadratic of helpers.h, L(w) = 2·w1² + 0.5·w2², ∇L = [4·w1, w2], from
// w = [1, 1]; base sgd, lr 0.1. The expected numbers are worked out in the comments (and
// checked with plain-float Python), not produced by the code under test.
#include "tests/helpers.h"

namespace gda::test {
namespace {

// rho 0.5 (not the default 0.1) keeps g_v large enough that float32 rounding in
// g_s − c·g stays far below the tolerance.
Params looksam_params(std::int64_t k = 5) {
  return optimizer_params("looksam", "sgd",
                          {{"lr", 0.1}, {"rho", 0.5}, {"alpha", 0.7}, {"k", k}});
}

TEST(LookSam, SamStepThenReuseStepByHand) {
  // Step 1 (t = 0, a SAM step): g = [4, 1], ||g|| = √17 = 4.1231056;
  //   e = 0.5·g/||g|| = [0.4850713, 0.1212678]; g_s = ∇L(w + e) = [4·1.4850713, 1.1212678]
  //   = [5.9402850, 1.1212678]; <g, g_s> = 23.7611400 + 1.1212678 = 24.8824078;
  //   c = <g, g_s>/||g||² = 24.8824078/17 = 1.4636710;
  //   g_v = g_s − c·g = [5.9402850 − 5.8546842, 1.1212678 − 1.4636710] = [0.0856008, −0.3424032]
  //   (4·0.0856008 − 0.3424032 = 0: orthogonal to g; ||g_v|| = 6/17 = 0.3529412).
  //   The step uses g_s: w = [1 − 0.5940285, 1 − 0.1121268] = [0.4059715, 0.8878732].
  // Step 2 (t = 1, reuse): g = [4·0.4059715, 0.8878732] = [1.6238860, 0.8878732],
  //   ||g|| = 1.8507632; scale = alpha·||g||/||g_v|| = 0.7·1.8507632/0.3529412 = 3.6706804;
  //   scale·g_v = [0.3142132, −1.2568529]; direction = [1.9380992, −0.3689797];
  //   w = [0.4059715 − 0.1938099, 0.8878732 + 0.0368980] = [0.2121616, 0.9247712].
  // (Plain SAM at step 2 would give a different point: the reuse is what is tested.)
  Stepper s(looksam_params());
  s.step();
  expect_w(s, 0.4059715, 0.8878732);
  s.step();
  expect_w(s, 0.2121616, 0.9247712);
}

TEST(PassCounts, LookSamUsesTwoPassesEveryKthStepAndOneOtherwise) {
  // k = 2: steps t = 0, 2 are SAM steps (2 / 2), t = 1, 3 reuse g_v (1 / 1); one sample.
  Stepper s(optimizer_params("looksam", "adam", {{"k", std::int64_t{2}}}));
  const std::int64_t expected[] = {2, 1, 2, 1};
  for (int t = 0; t < 4; ++t) {
    auto p = s.step();
    expect_passes(p, expected[t], expected[t], expected[t], expected[t], "step " + std::to_string(t));
  }
}

TEST(LookSam, SaveAndLoadKeepTheStoredComponentAndTheStepCounter) {
  // After the SAM step, a fresh optimizer loaded from the save must take the reuse step
  // (not another SAM step) with the saved g_v: the uninterrupted run's second step.
  Stepper a(looksam_params());
  a.step();
  Stepper b(looksam_params());
  b.model.copy_state_from(a.model);
  round_trip(*a.opt, *b.opt);
  EXPECT_EQ(b.step().forward, 1);  // a reuse step: the counter survived
  a.step();
  EXPECT_TRUE(torch::allclose(a.model.w, b.model.w));
  expect_w(b, 0.2121616, 0.9247712);  // the hand-computed step 2 above
}

}  // namespace
}  // namespace gda::test
