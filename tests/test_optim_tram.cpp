// TRAM on the model of helpers.h: out = x ⊙ w, and the outputs are also the logits of the
// divergence (softmax over the two outputs). With the one-sample batch x = [2, 1] the loss is
// L(w) = 2·w1² + 0.5·w2², ∇L = [4·w1, w2]; with the two-sample batch {[2, 1], [0, 2]} it is
// the mean of the two, ∇L = [(4·w1 + 0)/2, (w2 + 4·w2)/2] = [2·w1, 2.5·w2]. From w = [1, 1];
// base sgd, lr 0.1. KL(p ‖ q) = Σ p·ln(p/q) with the reference p first; "code" reduction
// d = ΣKL/(B²·C), "batchmean" d = ΣKL/B, C = 2 classes. The expected numbers are worked out in
// the comments (and checked with plain-float Python), not produced by the code under test.
// Random draws: with sigma = 0 the noise is exactly 0; otherwise the test seeds torch's
// generator, draws the same noise itself and evaluates the closed form in double.
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "core/error.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

Value str(const char* s) { return std::string(s); }

Params tram_params(std::vector<std::pair<std::string, Value>> extra = {}) {
  std::vector<std::pair<std::string, Value>> o = {{"lr", 0.1}};
  o.insert(o.end(), extra.begin(), extra.end());
  return optimizer_params("tram", "sgd", o);
}

/// KL(softmax([a1, a2]) ‖ softmax([b1, b2])), in double: the test's own closed form.
double kl2(double a1, double a2, double b1, double b2) {
  const double p1 = 1 / (1 + std::exp(a2 - a1)), p2 = 1 - p1;
  const double q1 = 1 / (1 + std::exp(b2 - b1)), q2 = 1 - q1;
  return p1 * std::log(p1 / q1) + p2 * std::log(p2 / q2);
}

TEST(Tram, PrevTargetTwoStepsByHand) {
  // Defaults: target prev, adaptive (ASAM, T = |w|), kl_reduction code; one sample, B = 1.
  // Step 1: θ_{t−1} = θ_1 = [1, 1], so d = 0, e = 0 and the step is SGD's: g = [4, 1],
  //   w = [0.6, 0.9]; θ_{t−1} becomes [1, 1] (refreshed before the base step).
  // Step 2: logits now [2·0.6, 0.9] = [1.2, 0.9], at θ_{t−1}: [2, 1].
  //   p_ref = softmax([2, 1]) = [0.7310586, 0.2689414]; p = softmax([1.2, 0.9]) = [0.5744425, 0.4255575];
  //   KL = 0.7310586·ln(0.7310586/0.5744425) + 0.2689414·ln(0.2689414/0.4255575)
  //      = 0.7310586·0.2410936 − 0.2689414·0.4589064 = 0.1762535 − 0.1234190 = 0.0528346;
  //   d = KL/(1²·2) = 0.0264173.
  //   g = [2.4, 0.9]; |w|·g = [1.44, 0.81], ‖·‖ = √2.7297 = 1.6521804; w²·g = [0.864, 0.729];
  //   e = d·w²g/‖|w|g‖ = [0.0138148, 0.0116562]; w + e = [0.6138148, 0.9116562];
  //   g' = [4·0.6138148, 0.9116562] = [2.4552592, 0.9116562];
  //   w = [0.6 − 0.2455259, 0.9 − 0.0911656] = [0.3544741, 0.8088344].
  // (Refreshing θ_{t−1} after the base step would give d = 0 again: [0.36, 0.81].)
  Stepper s(tram_params());
  s.step();
  expect_w(s.model, 0.6, 0.9);
  EXPECT_NEAR(s.last_loss, 2.5, 1e-6);  // L at [1, 1]
  s.step();
  expect_w(s.model, 0.3544741, 0.8088344);
}

TEST(Tram, InitTargetAgainstTheTeacherOneStepByHand) {
  // target init, reference teacher (the stage's teacher at w = [0.5, 1.5]), SAM neighbourhood
  // (adaptive false), kl_reduction code, two samples (B = 2, so d = ΣKL/(4·2)).
  //   sample [2, 1]: logits [2, 1], teacher's [1, 1.5]; p_T = [0.3775407, 0.6224593],
  //     p = [0.7310586, 0.2689414]; KL = 0.3775407·ln(0.3775407/0.7310586)
  //     + 0.6224593·ln(0.6224593/0.2689414) = −0.2494846 + 0.5223583 = 0.2728737.
  //   sample [0, 2]: logits [0, 2], teacher's [0, 3]; p_T = [0.0474259, 0.9525741],
  //     p = [0.1192029, 0.8807971]; KL = −0.0437105 + 0.0746253 = 0.0309148.
  //   ΣKL = 0.3037885; d = 0.3037885/8 = 0.0379736.
  //   g = [2, 2.5], ‖g‖ = 3.2015621; e = d·g/‖g‖ = [0.0237219, 0.0296524];
  //   g' = [2·1.0237219, 2.5·1.0296524] = [2.0474438, 2.5741309];
  //   w = [1 − 0.2047444, 1 − 0.2574131] = [0.7952556, 0.7425869].
  // (batchmean would give d = 0.1518942; reference own would give d = 0 and w = [0.8, 0.75].)
  ElementwiseModel m({1, 1});
  ElementwiseModel teacher({0.5f, 1.5f});
  auto opt = make_optimizer(m.parameters(), tram_params({{"target", str("init")},
                                                         {"reference", str("teacher")},
                                                         {"adaptive", false}}));
  opt->begin_stage({&teacher, torch::Tensor(), torch::Tensor()});
  {
    torch::NoGradGuard no_grad;  // StageInputs::start is valid only during begin_stage
    teacher.w.fill_(9.0);
  }
  auto ctx = two_sample_context(m);
  opt->step(ctx);
  expect_w(m, 0.7952556, 0.7425869);
  EXPECT_EQ(ctx.passes().forward, 3);
  EXPECT_EQ(ctx.passes().backward, 2);
}

TEST(Tram, InitTargetAgainstTheSourceModelOneStepByHand) {
  // reference source: θ_0 is StageInputs::source (here at w = [0.5, 1.5]) even though the
  // stage's teacher is at the student's own weights [1, 1]; so the same numbers as the teacher
  // test above, w = [0.7952556, 0.7425869]. With reference teacher, d would be 0 and
  // w = [0.8, 0.75]; without a source (source training), θ_0 falls back to the start model.
  ElementwiseModel m({1, 1});
  ElementwiseModel teacher({1, 1});
  ElementwiseModel source({0.5f, 1.5f});
  auto params = tram_params({{"target", str("init")}, {"reference", str("source")}, {"adaptive", false}});
  auto opt = make_optimizer(m.parameters(), params);
  opt->begin_stage({&teacher, torch::Tensor(), torch::Tensor(), &source});
  auto ctx = two_sample_context(m);
  opt->step(ctx);
  expect_w(m, 0.7952556, 0.7425869);

  ElementwiseModel n({1, 1});
  auto in_source_training = make_optimizer(n.parameters(), params);
  in_source_training->begin_stage({&teacher, torch::Tensor(), torch::Tensor(), nullptr});
  auto ctx2 = two_sample_context(n);
  in_source_training->step(ctx2);
  expect_w(n, 0.8, 0.75);
}

TEST(Tram, InitTargetKeepsTheFirstWeightsThreeStepsByHand) {
  // target init, reference own, SAM neighbourhood, kl_reduction batchmean (B = 1: d = KL).
  // θ_0 = [1, 1], logits at θ_0: [2, 1], p_0 = [0.7310586, 0.2689414].
  // Step 1: θ = θ_0: d = 0, w = [0.6, 0.9].
  // Step 2: logits [1.2, 0.9], p = [0.5744425, 0.4255575]; d = KL = 0.0528346 (as the prev test);
  //   g = [2.4, 0.9], ‖g‖ = 2.5632011; e = [0.0494705, 0.0185515];
  //   g' = [4·0.6494705, 0.9185515] = [2.5978822, 0.9185515]; w = [0.3402118, 0.8081449].
  //   (Here init and prev agree: θ_{t−1} = θ_1 = θ_0.)
  // Step 3: logits [0.6804236, 0.8081449], p = [0.4681130, 0.5318870];
  //   d = 0.7310586·ln(0.7310586/0.4681130) + 0.2689414·ln(0.2689414/0.5318870)
  //     = 0.3258941 − 0.1834012 = 0.1424929;
  //   g = [1.3608471, 0.8081449], ‖g‖ = 1.5827201; e = d·g/‖g‖ = [0.1225176, 0.0727576];
  //   g' = [4·0.4627294, 0.8809024] = [1.8509174, 0.8809024];
  //   w = [0.3402118 − 0.1850917, 0.8081449 − 0.0880902] = [0.1551200, 0.7200546].
  //   (target prev would compare with θ_2 = [0.6, 0.9] here: d = 0.0226703, w = [0.1963302, 0.7261728].)
  Stepper s(
      tram_params({{"target", str("init")}, {"adaptive", false}, {"kl_reduction", str("batchmean")}}));
  s.step();
  expect_w(s.model, 0.6, 0.9);
  s.step();
  expect_w(s.model, 0.3402118, 0.8081449);
  s.step();
  expect_w(s.model, 0.1551200, 0.7200546);
}

TEST(Tram, NoiseTargetWithSigmaZeroIsThePlainStep) {
  // z = 0: the noised logits equal the clean ones, d = 0, e = 0: SGD's steps [0.6, 0.9] and
  // then [0.6 − 0.24, 0.9 − 0.09] = [0.36, 0.81], each at the cost of a TRAM step.
  Stepper s(tram_params({{"target", str("noise")}, {"sigma", 0.0}}));
  EXPECT_EQ(s.step().forward, 3);
  expect_w(s.model, 0.6, 0.9);
  s.step();
  expect_w(s.model, 0.36, 0.81);
}

TEST(Tram, NoiseTargetMatchesTheClosedFormForTheDrawnNoise) {
  // sigma 0.5, ASAM, code; one sample x = [2, 1] at w = [1, 1]. With the generator seeded, the
  // step draws z (normal: sigma·N(0, 1); uniform: sigma·(2·U(0, 1) − 1)), the only draw of the
  // step; the test draws the same z and evaluates:
  //   clean logits [2, 1]; noised logits [2 + z1, 1 + z2]; d = KL(p(x + z) ‖ p(x)) / 2;
  //   g = [4, 1], |w|g = g, ‖g‖ = √17, w²g = g: e = d·[4, 1]/√17;
  //   w = [1 − 0.1·4·(1 + e1), 1 − 0.1·(1 + e2)].
  // d > 0 for any draw with z1 ≠ z2; the first seed from 3 on whose d > 1e-3 is used, so the
  // step is measurably not SGD's [0.6, 0.9].
  for (const char* type : {"normal", "uniform"}) {
    const bool normal = std::string(type) == "normal";
    int seed = 3;
    double d = 0, z1 = 0, z2 = 0;
    for (; seed < 100; ++seed) {
      torch::manual_seed(seed);
      auto z = normal ? torch::randn({1, 2}) * 0.5 : (torch::rand({1, 2}) * 2 - 1) * 0.5;
      z1 = z[0][0].item<double>();
      z2 = z[0][1].item<double>();
      d = kl2(2 + z1, 1 + z2, 2, 1) / 2;
      if (d > 1e-3) break;
    }
    ASSERT_GT(d, 1e-3) << type;
    const double e1 = d * 4 / std::sqrt(17.0), e2 = d * 1 / std::sqrt(17.0);
    Stepper s(tram_params({{"target", str("noise")}, {"sigma", 0.5}, {"noise_type", str(type)}}));
    torch::manual_seed(seed);
    s.step();
    expect_w(s.model, 1 - 0.4 * (1 + e1), 1 - 0.1 * (1 + e2), 1e-6);
  }
}

TEST(Tram, FisherWithSigmaZeroOneStepByHand) {
  // z = 0, so g_z = g and separate and shared agree: g = [4, 1];
  // f = 1 + 0.1·g² = [2.6, 1.1]; g/f = [1.5384615, 0.9090909];
  // Σ g²/f = 16/2.6 + 1/1.1 = 6.1538462 + 0.9090909 = 7.0629371, √ = 2.6576187;
  // e = 0.1·(g/f)/2.6576187 = [0.0578887, 0.0342070];
  // g' = [4·1.0578887, 1.0342070] = [4.2315549, 1.0342070]; w = [0.5768445, 0.8965793].
  // (SAM with rho 0.1 would give e = 0.1·g/√17 = [0.0970143, 0.0242536].)
  for (const char* source : {"separate", "shared"}) {
    Stepper s(tram_params({{"target", str("fisher")}, {"sigma", 0.0}, {"fisher_source", str(source)}}));
    s.step();
    expect_w(s.model, 0.5768445, 0.8965793);
    EXPECT_NEAR(s.last_loss, 2.5, 1e-6) << source;
  }
}

TEST(Tram, FisherSeparateAndSharedMatchTheClosedFormForTheDrawnNoise) {
  // sigma 0.5, one sample x = [2, 1] at w = [1, 1]; the noised loss 0.5·‖(x + z) ⊙ w‖² has the
  // gradient g_z = [(2 + z1)², (1 + z2)²]. The test draws the same z as the step, then
  //   separate: g = [4, 1] (clean); shared: g = g_z;
  //   f = 1 + 0.1·g_z²; e = 0.1·(g/f)/√(Σ g²/f); g' = [4·(1 + e1), 1 + e2] (clean, at w + e);
  //   w = [1 − 0.1·g'1, 1 − 0.1·g'2]. The loss returned: 2.5 (separate), the noised one (shared).
  for (bool shared : {false, true}) {
    torch::manual_seed(5);
    auto z = torch::randn({1, 2}) * 0.5;
    const double z1 = z[0][0].item<double>(), z2 = z[0][1].item<double>();
    const double gz1 = (2 + z1) * (2 + z1), gz2 = (1 + z2) * (1 + z2);
    const double g1 = shared ? gz1 : 4.0, g2 = shared ? gz2 : 1.0;
    const double f1 = 1 + 0.1 * gz1 * gz1, f2 = 1 + 0.1 * gz2 * gz2;
    const double norm = std::sqrt(g1 * g1 / f1 + g2 * g2 / f2);
    const double e1 = 0.1 * (g1 / f1) / norm, e2 = 0.1 * (g2 / f2) / norm;
    Stepper s(tram_params({{"target", str("fisher")},
                               {"sigma", 0.5},
                               {"fisher_source", str(shared ? "shared" : "separate")}}));
    torch::manual_seed(5);
    s.step();
    expect_w(s.model, 1 - 0.4 * (1 + e1), 1 - 0.1 * (1 + e2), 1e-6);
    const double noised_loss = 0.5 * (gz1 + gz2);
    EXPECT_NEAR(s.last_loss, shared ? noised_loss : 2.5, 1e-5) << shared;
  }
}

TEST(Tram, DivergenceOnTheCurrentOrNextDomainByHand) {
  // target init against a teacher at [0.5, 1.5], ASAM, code; the batch is x = [2, 1] but the
  // divergence is measured on a domain whose only input is [1, 3] (so every draw is [1, 3]):
  //   logits [1, 3], teacher's [0.5, 4.5]; p_T = [0.0179862, 0.9820138], p = [0.1192029, 0.8807971];
  //   KL = 0.0179862·ln(0.0179862/0.1192029) + 0.9820138·ln(0.9820138/0.8807971)
  //      = −0.0340159 + 0.1068216 = 0.0728057; d = KL/2 = 0.0364028.
  //   g = [4, 1] (the batch's); w = [1, 1]: e = d·[4, 1]/√17 = [0.0353159, 0.0088290];
  //   g' = [4.1412637, 1.0088290]; w = [0.5858736, 0.8991171].
  // (On the batch: d = KL([1, 1.5] vs [2, 1])/2 = 0.1364369, another w.)
  // "next" reads next_x, and current_x at the last stage (next_x undefined).
  const auto domain = torch::tensor({{1.0f, 3.0f}});
  const auto other = torch::tensor({{7.0f, -7.0f}});
  struct Case {
    const char* data;
    torch::Tensor current_x, next_x;
  };
  for (const auto& c : {Case{"current", domain, other}, Case{"next", other, domain},
                        Case{"next", domain, torch::Tensor()}}) {
    ElementwiseModel m({1, 1});
    ElementwiseModel teacher({0.5f, 1.5f});
    auto opt = make_optimizer(m.parameters(), tram_params({{"target", str("init")},
                                                           {"reference", str("teacher")},
                                                           {"divergence_data", str(c.data)}}));
    opt->begin_stage({&teacher, c.current_x, c.next_x});
    auto ctx = quadratic_context(m);
    opt->step(ctx);
    expect_w(m, 0.5858736, 0.8991171);
    EXPECT_EQ(ctx.passes().forward, 4) << c.data;  // + the current model on the drawn inputs
  }
}

TEST(Tram, TeacherReferenceWithoutAStageUsesTheFirstStepWeights) {
  // No begin_stage (no teacher offered): θ_0 is the weights at the first step, d = 0.
  Stepper s(tram_params({{"target", str("init")}, {"reference", str("teacher")}}));
  s.step();
  expect_w(s.model, 0.6, 0.9);
}

TEST(Tram, DivergenceDataNeedsTheStageInputs) {
  Stepper s(tram_params({{"divergence_data", str("current")}}));
  EXPECT_THROW(s.step(), std::logic_error);
}

TEST(Tram, CombinationsWithoutMeaningAreUserErrors) {
  ElementwiseModel m({1, 1});
  auto message = [&](std::vector<std::pair<std::string, Value>> o) -> std::string {
    try {
      make_optimizer(m.parameters(), tram_params(std::move(o)));
    } catch (const UserError& e) {
      return e.what();
    }
    return "";
  };
  for (const char* target : {"prev", "noise", "fisher"}) {
    const auto m1 = message({{"target", str(target)}, {"reference", str("teacher")}});
    EXPECT_NE(m1.find("optimizer.reference"), std::string::npos) << target << ": " << m1;
  }
  for (const char* data : {"current", "next"}) {
    const auto m2 = message({{"target", str("fisher")}, {"divergence_data", str(data)}});
    EXPECT_NE(m2.find("optimizer.divergence_data"), std::string::npos) << data << ": " << m2;
  }
  EXPECT_EQ(message({{"target", str("init")}, {"reference", str("teacher")}, {"divergence_data", str("next")}}),
            "");
  EXPECT_EQ(message({{"target", str("noise")}, {"divergence_data", str("current")}}), "");
}

/// The quadratic model that records, per forward, whether it ran in train mode.
class ModeRecorder : public ElementwiseModel {
 public:
  using ElementwiseModel::ElementwiseModel;
  torch::Tensor encode(const torch::Tensor& x) override {
    modes.push_back(is_training());
    return ElementwiseModel::encode(x);
  }
  std::vector<bool> modes;
};

TEST(Tram, ReferenceForwardsRunInEvalModeAndTheModeIsRestored) {
  // The forwards of a step in order. On the batch: the training forward and the perturbed one in
  // the model's mode, the reference weights in eval mode; TRAM-x's noised forward in the model's
  // mode (as the official code). Off the batch, the forwards on the drawn inputs run in eval mode.
  const auto x = torch::tensor({{1.0f, 3.0f}, {2.0f, 2.0f}});
  struct Case {
    const char* target;
    const char* data;
    std::vector<bool> modes;
  };
  for (const auto& c : {Case{"prev", "batch", {true, false, true}},
                        Case{"noise", "batch", {true, true, true}},
                        Case{"init", "current", {true, false, false, true}},
                        Case{"noise", "next", {true, false, false, true}},
                        Case{"fisher", "batch", {true, true, true}}}) {
    ModeRecorder m(std::vector<float>{1, 1});
    auto opt = make_optimizer(m.parameters(),
                              tram_params({{"target", str(c.target)}, {"divergence_data", str(c.data)}}));
    opt->begin_stage({&m, x, x});
    auto ctx = quadratic_context(m);
    opt->step(ctx);
    EXPECT_EQ(m.modes, c.modes) << c.target << " on " << c.data;
    EXPECT_TRUE(m.is_training()) << c.target;
  }
  ModeRecorder m(std::vector<float>{1, 1});  // a model in eval mode stays there
  m.eval();
  auto opt = make_optimizer(m.parameters(), tram_params());
  auto ctx = quadratic_context(m);
  opt->step(ctx);
  EXPECT_EQ(m.modes, (std::vector<bool>{false, false, false}));
  EXPECT_FALSE(m.is_training());
}

TEST(PassCounts, TramUsesThreeForwardAndTwoBackward) {
  // Per target, two samples per batch, steps 1 and 2 (step 1 of prev has d = 0 but the same
  // passes). {fwd, bwd, fwd samples, bwd samples}:
  //   prev, init, noise on the batch: 3 / 2 (train, reference or noised forward, perturbed);
  //   off the batch: 4 / 2 (+ the current model on the drawn inputs, B of them);
  //   fisher separate: 3 / 3 (clean, noised, perturbed); fisher shared: 2 / 2.
  const auto x = torch::tensor({{1.0f, 3.0f}, {2.0f, 2.0f}, {0.0f, 1.0f}});
  struct Case {
    std::vector<std::pair<std::string, Value>> params;
    std::int64_t fwd, bwd;
  };
  const std::vector<Case> cases = {
      {{{"target", str("prev")}}, 3, 2},
      {{{"target", str("init")}}, 3, 2},
      {{{"target", str("noise")}}, 3, 2},
      {{{"target", str("prev")}, {"divergence_data", str("current")}}, 4, 2},
      {{{"target", str("init")}, {"divergence_data", str("next")}}, 4, 2},
      {{{"target", str("noise")}, {"divergence_data", str("current")}}, 4, 2},
      {{{"target", str("fisher")}}, 3, 3},
      {{{"target", str("fisher")}, {"fisher_source", str("shared")}}, 2, 2},
  };
  for (const auto& c : cases) {
    ElementwiseModel m({1, 1});
    auto opt = make_optimizer(m.parameters(), optimizer_params("tram", "adam", c.params));
    opt->begin_stage({&m, x, torch::Tensor()});
    for (int t = 0; t < 2; ++t) {
      auto ctx = two_sample_context(m);
      opt->step(ctx);
      const std::string what = std::get<std::string>(c.params.front().second) + " step " + std::to_string(t);
      expect_passes(ctx.passes(), c.fwd, c.bwd, 2 * c.fwd, 2 * c.bwd, what);
    }
  }
}

TEST(Tram, SaveAndLoadKeepThePreviousWeights) {
  // Saved after step 1 of the prev test: θ_{t−1} = [1, 1]. A fresh optimizer on a copy of the
  // model must take the hand-computed step 2 ([0.3544741, 0.8088344]), not a first step (which
  // would compare θ with itself: [0.36, 0.81]).
  Stepper a(tram_params());
  a.step();
  auto saved = saved_archive(*a.opt);
  Stepper b(tram_params());
  b.model.copy_state_from(a.model);
  b.opt->load(saved);
  a.step();
  b.step();
  EXPECT_TRUE(torch::allclose(a.model.w, b.model.w));
  expect_w(b.model, 0.3544741, 0.8088344);
}

TEST(Tram, SaveAndLoadKeepTheInitialWeights) {
  // init (own), SAM, batchmean: saved after step 2 (θ_0 = [1, 1]); the loaded step 3 must be the
  // hand-computed [0.1551200, 0.7200546] of InitTargetKeepsTheFirstWeightsThreeStepsByHand.
  const auto p =
      tram_params({{"target", str("init")}, {"adaptive", false}, {"kl_reduction", str("batchmean")}});
  Stepper a(p);
  a.step();
  a.step();
  auto saved = saved_archive(*a.opt);
  Stepper b(p);
  b.model.copy_state_from(a.model);
  b.opt->load(saved);
  a.step();
  b.step();
  EXPECT_TRUE(torch::allclose(a.model.w, b.model.w));
  expect_w(b.model, 0.1551200, 0.7200546);
}

TEST(Tram, SaveAndLoadKeepTheTeacher) {
  // init against a teacher at [0.5, 1.5]; saved after one step. The fresh optimizer gets no
  // begin_stage: only the archive can tell it the teacher (else θ_0 would be its own weights).
  const auto p = tram_params({{"target", str("init")}, {"reference", str("teacher")}});
  ElementwiseModel teacher({0.5f, 1.5f});
  Stepper a(p);
  a.opt->begin_stage({&teacher, torch::Tensor(), torch::Tensor()});
  a.step();
  auto saved = saved_archive(*a.opt);
  Stepper b(p);
  b.model.copy_state_from(a.model);
  b.opt->load(saved);
  Stepper own(tram_params({{"target", str("init")}}));  // θ_0 = the weights after step 1
  own.model.copy_state_from(a.model);
  a.step();
  b.step();
  own.step();
  EXPECT_TRUE(torch::allclose(a.model.w, b.model.w));
  EXPECT_FALSE(torch::allclose(own.model.w, b.model.w));
}

}  // namespace
}  // namespace gda::test
