// FSAM (Fisher-mask SAM) on tiny problems; base sgd, lr 0.1 throughout. The expected numbers
// are worked out in the comments (and checked with plain-float Python), not produced by the
// code under test. The quadratic of helpers.h: L(w) = 2·w1² + 0.5·w2², ∇L = [4·w1, w2].
#include "tests/helpers.h"

namespace gda::test {
namespace {

/// out = x ⊙ w + b with x = [2, 1]: a maskable "weight" and an unmaskable "bias".
class AffineModel : public Model {
 public:
  AffineModel() {
    w = register_parameter("weight", torch::tensor({1.0f, 1.0f}));
    b = register_parameter("bias", torch::zeros({2}));
  }
  torch::Tensor encode(const torch::Tensor& x) override { return x * w + b; }
  torch::Tensor head(const torch::Tensor& z) override { return z; }
  torch::Tensor w, b;
};

Params fsam_params(std::vector<std::pair<std::string, Value>> extra = {}) {
  std::vector<std::pair<std::string, Value>> o = {{"lr", 0.1}, {"rho", 0.05}, {"keep_ratio", 0.5}};
  for (auto& kv : extra) o.push_back(kv);
  return optimizer_params("fsam", "sgd", o);
}

void expect_w(const torch::Tensor& w, double w1, double w2, double tol = 1e-6) {
  EXPECT_NEAR(w[0].item<double>(), w1, tol);
  EXPECT_NEAR(w[1].item<double>(), w2, tol);
}

TEST(Fsam, OneStepMasksTheWeightButNotTheBias) {
  // out = [2·w1 + b1, w2 + b2] = r at w = [1, 1], b = 0: r = [2, 1];
  // ∇w = [2·r1, r2] = [4, 1], ∇b = r = [2, 1]. Maskable: the weight only (2 entries), keep
  // int(2·0.5) = 1: F = [16, 1] keeps w1. ||g|| over ALL parameters = √(16+1+4+1) = √22 = 4.6904158;
  // e_w = 0.05·[4, 1]/4.6904158 ⊙ [1, 0] = [0.0426401, 0]; e_b = 0.05·[2, 1]/4.6904158 (in full)
  //   = [0.0213201, 0.0106600].
  // At w + e: r = [2·1.0426401 + 0.0213201, 1 + 0.0106600] = [2.1066004, 1.0106600];
  //   ∇w = [4.2132007, 1.0106600], ∇b = [2.1066004, 1.0106600].
  // w = [1 − 0.4213201, 1 − 0.1010660] = [0.5786799, 0.8989340]; b = [−0.2106600, −0.1010660].
  // (A mask on the bias, or the norm of the masked gradient, would give other numbers.)
  AffineModel m;
  auto opt = make_optimizer(m.parameters(), fsam_params());
  auto ctx = StepContext(m, torch::tensor({{2.0f, 1.0f}}), torch::zeros({1, 2}), {}, half_squared_error);
  auto loss = opt->step(ctx);
  EXPECT_NEAR(loss.item<double>(), 2.5, 1e-6);  // 0.5·(2² + 1²) at the start
  expect_w(m.w, 0.5786799, 0.8989340);
  expect_w(m.b, -0.2106600, -0.1010660);
}

TEST(Fsam, MaskIsKeptBetweenRebuildsAndRebuiltOnSchedule) {
  // Quadratic from w = [0.3, 1], keep_ratio 0.5 (1 of 2 entries), mask_interval 2.
  // t = 0 (mask step): g = [1.2, 1], F = [1.44, 1] → mask [1, 0]; ||g|| = 1.5620499;
  //   e = [0.05·1.2/1.5620499, 0] = [0.0384111, 0]; g(w+e) = [4·0.3384111, 1] = [1.3536442, 1];
  //   w = [0.3 − 0.1353644, 0.9] = [0.1646356, 0.9].
  // t = 1 (kept mask [1, 0], although F = [0.4336780, 0.81] would now pick w2):
  //   g = [0.6585423, 0.9], ||g|| = 1.1152031; e = [0.0295257, 0];
  //   g(w+e) = [4·0.1941613, 0.9] = [0.7766450, 0.9]; w = [0.0869711, 0.81].
  // t = 2 (mask step): g = [0.3478843, 0.81], F = [0.1210235, 0.6561] → mask [0, 1];
  //   ||g|| = 0.8815461; e = [0, 0.05·0.81/0.8815461] = [0, 0.0459420];
  //   g(w+e) = [0.3478843, 0.8559420]; w = [0.0521826, 0.7244058].
  ElementwiseModel m({0.3f, 1.0f});
  auto opt = make_optimizer(m.parameters(), fsam_params({{"mask_interval", std::int64_t{2}}}));
  const double expected[3][2] = {{0.1646356, 0.9}, {0.0869711, 0.81}, {0.0521826, 0.7244058}};
  for (int t = 0; t < 3; ++t) {
    auto ctx = quadratic_context(m);
    opt->step(ctx);
    SCOPED_TRACE("step " + std::to_string(t));
    expect_w(m.w, expected[t][0], expected[t][1]);
  }
}

TEST(Fsam, BatchAndPerSampleFisherRankDifferently) {
  // Two samples from w = [1, 0.9]: per-sample gradients [4, 0.9] and [0, 3.6]; batch mean
  // g = [2, 2.25], ||g|| = √9.0625 = 3.0103986.
  // fisher = "batch": F = g² = [4, 5.0625] → mask [0, 1]; e = [0, 0.05·2.25/3.0103986]
  //   = [0, 0.0373705]; at w + e the mean gradient is [2, 2.5·0.9373705] = [2, 2.3434262];
  //   w = [0.8, 0.9 − 0.2343426] = [0.8, 0.6656574].
  // fisher = "per_sample": F = [16 + 0, 0.81 + 12.96] = [16, 13.77] → mask [1, 0];
  //   e = [0.05·2/3.0103986, 0] = [0.0332182, 0]; mean gradient at w + e = [2·1.0332182, 2.25]
  //   = [2.0664364, 2.25]; w = [0.7933564, 0.675].
  ElementwiseModel batch({1.0f, 0.9f});
  auto opt_batch = make_optimizer(batch.parameters(), fsam_params());
  auto ctx_batch = two_sample_context(batch);
  opt_batch->step(ctx_batch);
  expect_w(batch.w, 0.8, 0.6656574);

  ElementwiseModel per({1.0f, 0.9f});
  auto opt_per = make_optimizer(per.parameters(), fsam_params({{"fisher", std::string("per_sample")}}));
  auto ctx_per = two_sample_context(per);
  opt_per->step(ctx_per);
  expect_w(per.w, 0.7933564, 0.675);
  EXPECT_TRUE(per.is_training());  // the per-sample passes ran in eval mode and switched back
}

TEST(PassCounts, FsamUsesTwoPassesAndPerSampleFisherAddsOnePerSampleOnMaskSteps) {
  // mask_interval 2: t = 0, 2 are mask steps, t = 1, 3 reuse the mask. Batch of 2 samples.
  // fisher = "batch": 2 fwd / 2 bwd (4 samples) on every step.
  // fisher = "per_sample": mask steps add 2 single-sample passes: 4 / 4 (6 samples).
  for (const char* fisher : {"batch", "per_sample"}) {
    ElementwiseModel m({1, 1});
    auto opt = make_optimizer(m.parameters(),
                              optimizer_params("fsam", "adam",
                                               {{"mask_interval", std::int64_t{2}},
                                                {"fisher", std::string(fisher)}}));
    const bool per_sample = std::string(fisher) == "per_sample";
    for (int t = 0; t < 4; ++t) {
      auto ctx = two_sample_context(m);
      opt->step(ctx);
      const bool mask_step = t % 2 == 0;
      const std::int64_t passes = per_sample && mask_step ? 4 : 2;
      const std::int64_t samples = per_sample && mask_step ? 6 : 4;
      expect_passes(ctx.passes(), passes, passes, samples, samples,
                    std::string(fisher) + " step " + std::to_string(t));
    }
  }
}

TEST(Fsam, SaveAndLoadKeepTheMaskAndTheStepCounter) {
  // After step t = 0 of the schedule test, a fresh optimizer loaded from the save must take the
  // t = 1 step with the saved mask [1, 0] (a rebuilt mask would pick w2): w = [0.0869711, 0.81].
  const auto params = fsam_params({{"mask_interval", std::int64_t{2}}});
  ElementwiseModel a({0.3f, 1.0f});
  auto opt_a = make_optimizer(a.parameters(), params);
  auto ctx0 = quadratic_context(a);
  opt_a->step(ctx0);

  ElementwiseModel b({0.3f, 1.0f});
  b.copy_state_from(a);
  auto opt_b = make_optimizer(b.parameters(), params);
  round_trip(*opt_a, *opt_b);
  auto ctx_a = quadratic_context(a);
  opt_a->step(ctx_a);
  auto ctx_b = quadratic_context(b);
  opt_b->step(ctx_b);
  EXPECT_TRUE(torch::allclose(a.w, b.w));
  expect_w(b.w, 0.0869711, 0.81);
}

}  // namespace
}  // namespace gda::test
