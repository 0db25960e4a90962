// GSAM on the quadratic of helpers.h, L(w) = 2·w1² + 0.5·w2², ∇L = [4·w1, w2]; base sgd,
// lr 0.1. The expected numbers are worked out in the comments (and checked with plain-float
// Python), not produced by the code under test.
#include "tests/helpers.h"

namespace gda::test {
namespace {

Params gsam_params(double rho_max, double rho_min, double alpha, bool adaptive = false) {
  return optimizer_params("gsam", "sgd",
                          {{"lr", 0.1}, {"rho_max", rho_max}, {"rho_min", rho_min},
                           {"alpha", alpha}, {"adaptive", adaptive}});
}

TEST(Gsam, OneStepOverSgdByHand) {
  // The lr never changes, so rho_t = rho_min + (rho_max − rho_min)·lr/lr_0 = rho_max = 0.5
  // (rho_min = 0.1 plays no part). From w = [1, 1]:
  // g = [4, 1], ||g|| = √17 = 4.1231056; e = 0.5·g/||g|| = [0.4850713, 0.1212678];
  // g_s = ∇L(w + e) = [4·1.4850713, 1.1212678] = [5.9402850, 1.1212678];
  // <g, g_s> = 23.7611400 + 1.1212678 = 24.8824078; ||g_s||² = 35.2869859 + 1.2572415 = 36.5442274;
  // c = 24.8824078/36.5442274 = 0.6808848;
  // g_⊥ = g − c·g_s = [4 − 4.0446496, 1 − 0.7634542] = [−0.0446496, 0.2365458] (<g_⊥, g_s> = 0);
  // d = g_s − 0.5·g_⊥ = [5.9402850 + 0.0223248, 1.1212678 − 0.1182729] = [5.9626098, 1.0029949];
  // w = [1 − 0.5962610, 1 − 0.1002995] = [0.4037390, 0.8997005].
  // (SAM with rho 0.5 would give [0.4059715, 0.8878732]: the orthogonal term is what differs.)
  Stepper s(gsam_params(0.5, 0.1, 0.5), {1, 1});
  s.step();
  expect_w(s, 0.4037390, 0.8997005);
}

TEST(Gsam, AlphaZeroIsSam) {
  // rho_max = rho_min = 0.05 and alpha = 0: the step of Sam.OneStepOverSgd (test_optimizers.cpp),
  // w = [1 − 0.41940285, 1 − 0.10121268] = [0.5805971, 0.8987873].
  Stepper s(gsam_params(0.05, 0.05, 0.0), {1, 1});
  s.step();
  expect_w(s, 0.5805971, 0.8987873);
}

TEST(Gsam, AdaptiveNeighbourhoodOneStep) {
  // The PyTorch code's adaptive form, e = rho·w²·g/||w·g|| on every tensor, from w = [0.5, 2]
  // (|w| differs per coordinate, so this differs from SAM):
  // g = [2, 2]; w·g = [1, 4], ||w·g|| = √17 = 4.1231056; e = 0.5·[0.25·2, 4·2]/4.1231056
  //   = [0.0606339, 0.9701425]; g_s = ∇L(w + e) = [4·0.5606339, 2.9701425] = [2.2425356, 2.9701425];
  // <g, g_s> = 4.4850713 + 5.9402850 = 10.4253563; ||g_s||² = 5.0289660 + 8.8217465 = 13.8507125;
  // c = 0.7526946; g_⊥ = g − c·g_s = [2 − 1.6879444, 2 − 2.2356102] = [0.3120556, −0.2356102];
  // d = g_s − 0.5·g_⊥ = [2.2425356 − 0.1560278, 2.9701425 + 0.1178051] = [2.0865078, 3.0879476];
  // w = [0.5 − 0.2086508, 2 − 0.3087948] = [0.2913492, 1.6912052].
  Stepper s(gsam_params(0.5, 0.5, 0.5, true), {0.5f, 2.0f});
  s.step();
  expect_w(s, 0.2913492, 1.6912052);
}

TEST(Gsam, RhoMinAboveRhoMaxIsAUserError) {
  // The config validator reports the rule (test_optimizer_family.cpp); make_optimizer checks it
  // again for Params built by hand.
  ElementwiseModel m({1, 1});
  EXPECT_THROW(make_optimizer(m.parameters(), gsam_params(0.05, 0.1, 0.4)), UserError);
  const std::string message = user_error_of([&] { make_optimizer(m.parameters(), gsam_params(0.05, 0.1, 0.4)); });
  EXPECT_NE(message.find("optimizer.rho_min"), std::string::npos) << message;
  EXPECT_NE(message.find("optimizer.rho_max"), std::string::npos) << message;
}

TEST(PassCounts, GsamUsesTwoForwardAndTwoBackward) {
  Stepper s(optimizer_params("gsam", "adam"), {1, 1});
  auto p = s.step();
  expect_passes(p, 2, 2, 2, 2);
}

}  // namespace
}  // namespace gda::test
