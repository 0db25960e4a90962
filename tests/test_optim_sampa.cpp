// SAMPa on the model of helpers.h (out = x ⊙ w, per-sample loss 0.5·||x ⊙ w||², so the
// gradient of a one-sample batch x is [x1²·w1, x2²·w2]) with two different batches:
// A = [2, 1] (∇ = [4·w1, w2], the quadratic of helpers.h) and B = [1, 2] (∇ = [w1, 4·w2]).
// From w = [1, 1]; base sgd, lr 0.1; rho 0.1 and lambda 0.2 (the defaults). The expected
// numbers are worked out in the comments (and checked with plain-float Python), not produced
// by the code under test.
#include "tests/helpers.h"

namespace gda::test {
namespace {

const BatchOf kBatchA = one_sample({2, 1}), kBatchB = one_sample({1, 2});

Params sampa_params(std::vector<std::pair<std::string, Value>> extra = {}) {
  std::vector<std::pair<std::string, Value>> o = {{"lr", 0.1}, {"rho", 0.1}, {"lambda", 0.2}};
  o.insert(o.end(), extra.begin(), extra.end());
  return optimizer_params("sampa", "sgd", o);
}

TEST(Sampa, TwoStepsOnTwoBatchesByHand) {
  // Step 1 on A (no ∇f(y_0) yet: a plain SGD step): g = [4, 1]; w1 = [0.6, 0.9]; ∇f(y_1) = g.
  //   Kept for step 2: x̃_1 = w1 + 0.1·g/√17 = [0.6 + 0.0970143, 0.9 + 0.0242536]
  //   = [0.6970143, 0.9242536], and its gradient on A (the batch ∇f(y_1) came from):
  //   a = [4·0.6970143, 0.9242536] = [2.7880570, 0.9242536].
  // Step 2 on B: y_2 = w1 − 0.1·∇f(y_1) = [0.2, 0.8]; b = ∇f(y_2) on B = [0.2, 4·0.8] = [0.2, 3.2];
  //   G = 0.8·a + 0.2·b = [2.2304456 + 0.04, 0.7394029 + 0.64] = [2.2704456, 1.3794029];
  //   w2 = w1 − 0.1·G = [0.6 − 0.2270446, 0.9 − 0.1379403] = [0.3729554, 0.7620597].
  // (a taken on B instead would be [0.6970143, 3.6970143], another w2.)
  Stepper s(sampa_params());
  s.step(kBatchA);
  expect_w(s, 0.6, 0.9);
  s.step(kBatchB);
  expect_w(s, 0.3729554, 0.7620597);
}

TEST(Sampa, AuxiliaryStepFollowsTheBaseMomentumWithoutChangingIt) {
  // Base sgd with momentum 0.9, batch A twice. Step 1: g = [4, 1], buf = g, w1 = [0.6, 0.9];
  // a = [2.7880570, 0.9242536] as above.
  // y_update = "base": the SGD step fed ∇f(y_1) = [4, 1] would make buf' = 0.9·buf + [4, 1]
  //   = [7.6, 1.9], so y_2 = w1 − 0.1·buf' = [−0.16, 0.71]; b = ∇f(y_2) on A = [−0.64, 0.71];
  //   G = 0.8·a + 0.2·b = [2.2304456 − 0.128, 0.7394029 + 0.142] = [2.1024456, 0.8814029];
  //   the real step from the untouched buf = [4, 1]: buf = [3.6 + 2.1024456, 0.9 + 0.8814029]
  //   = [5.7024456, 1.7814029]; w2 = [0.6 − 0.5702446, 0.9 − 0.1781403] = [0.0297554, 0.7218597].
  //   (Had the auxiliary step kept buf', w2 would be [−0.2942446, 0.6408597].)
  // y_update = "sgd": y_2 = w1 − 0.1·[4, 1] = [0.2, 0.8]; b = [0.8, 0.8];
  //   G = [2.2304456 + 0.16, 0.7394029 + 0.16] = [2.3904456, 0.8994029];
  //   buf = [3.6 + 2.3904456, 0.9 + 0.8994029] = [5.9904456, 1.7994029];
  //   w2 = [0.6 − 0.5990446, 0.9 − 0.1799403] = [0.0009554, 0.7200597].
  Stepper base(sampa_params({{"momentum", 0.9}}));
  base.step(kBatchA);
  expect_w(base, 0.6, 0.9);
  base.step(kBatchA);
  expect_w(base, 0.0297554, 0.7218597);

  Stepper sgd(sampa_params({{"momentum", 0.9}, {"y_update", std::string("sgd")}}));
  sgd.step(kBatchA);
  sgd.step(kBatchA);
  expect_w(sgd, 0.0009554, 0.7200597);
}

TEST(PassCounts, SampaUsesTwoForwardAndTwoBackward) {
  // Every step: ∇f(y_{t+1}) on its batch and ∇f(x̃_{t+1}) on the same batch for the next
  // step (the first step: ∇f(x_0) and ∇f(x̃_1)). Two samples per batch.
  ElementwiseModel m({1, 1});
  auto opt = make_optimizer(m.parameters(), optimizer_params("sampa", "adam"));
  for (int t = 0; t < 3; ++t) {
    StepContext ctx(m, torch::tensor({{2.0f, 1.0f}, {0.0f, 2.0f}}), torch::zeros({2, 2}), {},
                    half_squared_error);
    opt->step(ctx);
    expect_passes(ctx.passes(), 2, 2, 4, 4, "step " + std::to_string(t));
  }
}

TEST(Sampa, SaveAndLoadKeepTheAuxiliaryGradients) {
  // Saved after step 1 on A: ∇f(y_1) and the kept ∇f(x̃_1) on A. A fresh optimizer loaded
  // from it must take the uninterrupted step 2 on B (hand-computed above), not a first step.
  Stepper a(sampa_params());
  a.step(kBatchA);
  Stepper b(sampa_params());
  b.model.copy_state_from(a.model);
  round_trip(*a.opt, *b.opt);
  a.step(kBatchB);
  b.step(kBatchB);
  EXPECT_TRUE(torch::allclose(a.model.w, b.model.w));
  expect_w(b, 0.3729554, 0.7620597);
}

}  // namespace
}  // namespace gda::test
