// GAM (accelerated, the official code's Algorithm 2) on the quadratic of helpers.h,
// L(w) = 2·w1² + 0.5·w2², ∇L = [4·w1, w2]; base sgd, lr 0.1. The expected numbers are worked
// out in the comments (and checked with plain-float Python), not produced by the code under test.
#include "tests/helpers.h"

namespace gda::test {
namespace {

// Four chained gradients in float32 (differences of nearby gradients among them): 2e-6.
constexpr double kChainedTol = 2e-6;

// gamma 0.5 (not the default 0.045) makes the orthogonal term visible at this tolerance.
Params gam_params(bool adaptive = false) {
  return optimizer_params("gam", "sgd",
                          {{"lr", 0.1}, {"rho", 0.2}, {"rho_prime", 0.05}, {"alpha", 0.6},
                           {"beta", 0.5}, {"gamma", 0.5}, {"adaptive", adaptive}});
}

TEST(Gam, OneStepOverSgdByHand) {
  // From w = [1, 1]; rho 0.2, rho' 0.05, alpha 0.6, beta 0.5, gamma 0.5.
  // g0 = [4, 1], ||g0|| = √17;  w + 0.05·g0/||g0|| = [1.0485071, 1.0121268], g1 = [4.1940285, 1.0121268];
  // h0 = g1 − g0 = [0.1940285, 0.0121268], ||h0|| = 0.1944071;
  // w2 = w + 0.2·h0/||h0|| = [1.1996105, 1.0124757], g2 = [4.7984421, 1.0124757], ||g2|| = 4.9040956;
  // w3 = w2 + 0.05·g2/||g2|| = [1.2485333, 1.0227984], g3 = [4.9941333, 1.0227984];
  // h+ = 0.6·g1 + 0.4·g3 = [4.5140704, 1.0163954];  h− = 0.5·g0 + 0.5·g2 = [4.3992210, 1.0062378];
  // <h−, h+> = 20.8811290, ||h+||² = 21.4098914, c = 0.9753029;
  // h−⊥ = h− − c·h+ = [−0.0033649, 0.0149444];
  // d = h+ − 0.5·h−⊥ = [4.5157529, 1.0089232];  w = [1 − 0.4515753, 1 − 0.1008923]
  //   = [0.5484247, 0.8991077].
  // (Without the orthogonal term, gamma = 0, w2 would be 1 − 0.1016395 = 0.8983605.)
  Stepper s(gam_params(), {1, 1});
  s.step();
  expect_w(s, 0.5484247, 0.8991077, kChainedTol);
}

TEST(Gam, AdaptiveNeighbourhoodOneStep) {
  // The code's adaptive moves, e = r·w²·v/||w·v|| with w the weights the move starts from;
  // from w = [0.5, 2], same hyperparameters. g0 = [2, 2]; w·g0 = [1, 4], ||·|| = √17;
  // e1 = 0.05·[0.5, 8]/√17 = [0.0060634, 0.0970143], g1 = [2.0242536, 2.0970143];
  // h0 = [0.0242536, 0.0970143]; w·h0 = [0.0121268, 0.1940285], ||·|| = 0.1944071;
  // e2 = 0.2·[0.25·0.0242536, 4·0.0970143]/0.1944071 = [0.0062378, 0.3992210];
  // w2 = [0.5062378, 2.3992210], g2 = [2.0249513, 2.3992210];
  // w2·g2 = [1.0251070, 5.7562616], ||·|| = 5.8468275;
  // e3 = 0.05·[0.2562767·2.0249513, 5.7562616·2.3992210]/5.8468275 = [0.0044379, 0.1181029];
  // w3 = [0.5106757, 2.5173239], g3 = [2.0427028, 2.5173239];
  // h+ = 0.6·g1 + 0.4·g3 = [2.0316332, 2.2651381];  h− = 0.5·g0 + 0.5·g2 = [2.0124757, 2.1996105];
  // c = <h−, h+>/||h+||² = 9.0710341/9.2583843 = 0.9797643;  h−⊥ = [0.0219540, −0.0196909];
  // d = h+ − 0.5·h−⊥ = [2.0206562, 2.2749835];  w = [0.5 − 0.2020656, 2 − 0.2274984]
  //   = [0.2979344, 1.7725016].
  Stepper s(gam_params(true), {0.5f, 2.0f});
  s.step();
  expect_w(s, 0.2979344, 1.7725016, kChainedTol);
}

TEST(PassCounts, GamUsesFourForwardAndFourBackward) {
  // g0 at w, g1 at w + rho'·g0/||g0||, g2 at w2, g3 at w2 + rho'·g2/||g2||: all on the batch.
  Stepper s(optimizer_params("gam", "adam"), {1, 1});
  auto p = s.step();
  expect_passes(p, 4, 4, 4, 4);
}

}  // namespace
}  // namespace gda::test
