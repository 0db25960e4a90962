// Sparse SAM (SSAM-F and SSAM-D) on tiny problems; base sgd, lr 0.1 throughout. The expected
// numbers are worked out in the comments (and checked with plain-float Python), not produced by
// the code under test. ElementwiseModel (helpers.h): out = x ⊙ w, per-sample loss 0.5·||out||².
#include "tests/helpers.h"

namespace gda::test {
namespace {

// SSAM-F: rho 0.1, sparsity 0.5 (keep int(2·0.5) = 1 entry), n_F = min(16, 2) = 2, a mask
// update after every step.
Params ssamf_params() {
  return optimizer_params("ssam", "sgd",
                          {{"lr", 0.1}, {"rho", 0.1}, {"sparsity", 0.5}, {"mask", std::string("fisher")},
                           {"num_samples", std::int64_t{16}}, {"update_freq", std::int64_t{1}}});
}

// SSAM-D made deterministic: sparsity 0 starts from the all-ones mask whatever the random scores
// and grows nothing (int(min(2·dr, 0)) = 0), so only the drop by |g| acts: at t = 0,
// dr = 0.5·(1 + cos 0)/2 = 0.5 and the survivors are the top int(2·(1 − 0.5)) = 1 by |g|.
Params ssamd_params() {
  return optimizer_params("ssam", "sgd",
                          {{"lr", 0.1}, {"rho", 0.1}, {"sparsity", 0.0}, {"mask", std::string("dynamic")},
                           {"drop_rate", 0.5}, {"drop_strategy", std::string("gradient")},
                           {"update_freq", std::int64_t{1}}});
}

TEST(Ssam, FisherMaskStartsEmptyAndComesFromPerSampleGradientsAfterTheStep) {
  // t = 0: the mask is all 0, so e = 0 and the step is plain SGD on g = [2, 2.5]:
  //   w = [1 − 0.2, 1 − 0.25] = [0.8, 0.75].
  //   Mask update at the NEW w: per-sample gradients [3.2, 0.75] and [0, 3.0];
  //   F = [10.24, 0.5625 + 9] = [10.24, 9.5625] → keep w1 (the squared batch gradient
  //   [1.6², 1.875²] = [2.56, 3.5156] would keep w2).
  // t = 1: g = [1.6, 1.875], ||g|| = √6.075625 = 2.4648783;
  //   e = [0.1·1.6/2.4648783, 0] = [0.0649119, 0]; at w + e the mean gradient is
  //   [2·0.8649119, 1.875] = [1.7298238, 1.875]; w = [0.8 − 0.1729824, 0.75 − 0.1875]
  //   = [0.6270176, 0.5625].
  ElementwiseModel m({1, 1});
  auto opt = make_optimizer(m.parameters(), ssamf_params());
  auto c0 = two_sample_context(m);
  auto loss = opt->step(c0);
  EXPECT_NEAR(loss.item<double>(), 2.25, 1e-6);  // (0.5·5 + 0.5·4)/2 at w = [1, 1]
  expect_w(m, 0.8, 0.75);
  EXPECT_TRUE(m.is_training());  // the Fisher passes ran in eval mode and switched back
  auto c1 = two_sample_context(m);
  opt->step(c1);
  expect_w(m, 0.6270176, 0.5625);
}

TEST(Ssam, DynamicMaskDropsBySmallGradientBetweenThePassesAndAppliesNextStep) {
  // Quadratic from w = [1, 1]. t = 0: the all-ones mask → a SAM step with rho 0.1:
  //   e = 0.1·[4, 1]/√17 = [0.0970142, 0.0242536]; g(w+e) = [4.3880570, 1.0242536];
  //   w = [0.5611943, 0.8975746]. Between the passes the mask becomes [1, 0] (|g| = [4, 1]).
  // t = 1: g = [2.2447772, 0.8975746], ||g|| = 2.4175742; e = [0.1·2.2447772/2.4175742, 0]
  //   = [0.0928525, 0]; g(w+e) = [4·0.6540468, 0.8975746] = [2.6161870, 0.8975746];
  //   w = [0.5611943 − 0.2616187, 0.8975746 − 0.0897575] = [0.2995756, 0.8078172].
  ElementwiseModel m({1, 1});
  auto opt = make_optimizer(m.parameters(), ssamd_params());
  auto c0 = quadratic_context(m);
  opt->step(c0);
  expect_w(m, 0.5611943, 0.8975746);
  auto c1 = quadratic_context(m);
  opt->step(c1);
  expect_w(m, 0.2995756, 0.8078172);
}

TEST(PassCounts, SsamFisherAddsSingleSamplePassesOnUpdateStepsOnly) {
  // update_freq 2: t = 0, 2 update the mask, t = 1, 3 do not. Batch of 2, num_samples 16:
  // n_F = 2. Update steps: 2 + 2 passes (2·2 + 2 = 6 samples); others 2 / 2 (4 samples).
  // SSAM-D never adds a pass: 2 / 2 (4 samples) on every step, update or not.
  for (const char* mask : {"fisher", "dynamic"}) {
    ElementwiseModel m({1, 1});
    auto opt = make_optimizer(m.parameters(),
                              optimizer_params("ssam", "adam",
                                               {{"mask", std::string(mask)},
                                                {"update_freq", std::int64_t{2}},
                                                {"num_samples", std::int64_t{16}}}));
    const bool fisher = std::string(mask) == "fisher";
    for (int t = 0; t < 4; ++t) {
      auto ctx = two_sample_context(m);
      opt->step(ctx);
      const bool update = t % 2 == 0;
      const std::int64_t passes = fisher && update ? 4 : 2;
      const std::int64_t samples = fisher && update ? 6 : 4;
      expect_passes(ctx.passes(), passes, passes, samples, samples,
                    std::string(mask) + " step " + std::to_string(t));
    }
  }
}

/// Steps once on `make_ctx`, saves, loads into a fresh optimizer on a copy of the model, steps
/// both once more and expects them to agree with each other and with the hand-computed w.
template <typename MakeContext>
void expect_second_step_survives_reload(const Params& p, MakeContext make_ctx, double w1, double w2) {
  ElementwiseModel a({1, 1});
  auto opt_a = make_optimizer(a.parameters(), p);
  auto c0 = make_ctx(a);
  opt_a->step(c0);

  ElementwiseModel b({1, 1});
  b.copy_state_from(a);
  auto opt_b = make_optimizer(b.parameters(), p);
  round_trip(*opt_a, *opt_b);
  auto ca = make_ctx(a);
  opt_a->step(ca);
  auto cb = make_ctx(b);
  opt_b->step(cb);
  EXPECT_TRUE(torch::allclose(a.w, b.w));
  expect_w(b, w1, w2);
}

TEST(Ssam, SaveAndLoadKeepTheMasks) {
  // A fresh SSAM-F mask is all 0 (the second step would be plain SGD: [0.64, 0.5625]) and a
  // fresh deterministic SSAM-D mask all 1 (a SAM step); the loaded masks give the steps above.
  {
    SCOPED_TRACE("fisher");
    expect_second_step_survives_reload(ssamf_params(), two_sample_context, 0.6270176, 0.5625);
  }
  {
    SCOPED_TRACE("dynamic");
    expect_second_step_survives_reload(ssamd_params(), quadratic_context, 0.2995756, 0.8078172);
  }
}

}  // namespace
}  // namespace gda::test
