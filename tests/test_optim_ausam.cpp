// AUSAM on the elementwise model of helpers.h (out = x ⊙ w, per-sample loss 0.5·||out − y||²),
// base sgd, lr 0.1, rho 0.1, from w = [1, 1]. Three samples, fed as one batch at every step
// (so every step starts a new epoch):
//   a: x = [2, 1], y = 0;  b: x = [0, 2], y = 0;  c: x = [0, 0], y = [1, 0] (loss 0.5 whatever w,
//   gradient 0, so its loss change under any perturbation is exactly 0).
// With fmin = 1e-12, c's sampling weight after the first epoch is ~3e-11 of the total, so
// drawing k = int(0.7·3) = 2 rows without replacement picks {a, b}: the draw is random but its
// outcome is fixed up to that probability (and the seed is fixed). The expected numbers are
// worked out in the comments (and checked with plain-float Python), not produced by the code
// under test.

#include "tests/helpers.h"

namespace gda::test {
namespace {

StepContext abc(Model& m) {
  return StepContext(m, torch::tensor({{2.0f, 1.0f}, {0.0f, 2.0f}, {0.0f, 0.0f}}),
                     torch::tensor({{0.0f, 0.0f}, {0.0f, 0.0f}, {1.0f, 0.0f}}), {},
                     half_squared_error);
}

Params ausam_params() {
  return optimizer_params(
      "ausam", "sgd", {{"lr", 0.1}, {"rho", 0.1}, {"alpha", 0.7}, {"fmin", 1e-12}, {"fmax", 0.5}});
}

/// AUSAM with ausam_params() from w = [1, 1], stepping on abc.
Stepper ausam_stepper() { return Stepper(ausam_params(), {1, 1}, abc); }

/// The optimizer's saved tensor `key` (the per-sample store is read through the save).
torch::Tensor saved(const Optimizer& opt, const std::string& key) {
  auto in = saved_archive(opt);
  torch::Tensor t;
  in.read(key, t);
  return t;
}

/// The store's rows (cumulative DLP, count, ADLP) sorted by the cumulative DLP.
torch::Tensor sorted_stats(const Optimizer& opt) {
  auto stats = saved(opt, "ausam_stats").to(torch::kFloat64);
  return stats.index_select(0, std::get<1>(stats.select(1, 0).sort()));
}

void expect_row(const torch::Tensor& stats, std::int64_t i, double sum, double count, double adlp) {
  EXPECT_NEAR(stats[i][0].item<double>(), sum, 1e-5) << "row " << i;
  EXPECT_NEAR(stats[i][1].item<double>(), count, 1e-12) << "row " << i;
  EXPECT_NEAR(stats[i][2].item<double>(), adlp, 1e-5) << "row " << i;
}

TEST(Ausam, FirstEpochUsesTheWholeBatchThenDrawsByAverageLossChange) {
  // Step 1 (epoch 0, all rows): l(w) = [2.5, 2, 0.5], loss 5/3 = 1.6666667;
  //   g = (1/3)·[4·1, (1+4)·1] = [1.3333333, 1.6666667], ||g|| = 2.1343747;
  //   e = 0.1·g/||g|| = [0.0624695, 0.0780869]; w + e = [1.0624695, 1.0780869];
  //   l(w + e) = [2.8388186, 2.3245426, 0.5]; DLP = [0.3388186, 0.3245426, 0];
  //   ∇L(w + e) = (1/3)·[4·1.0624695, 5·1.0780869] = [1.4166260, 1.7968115];
  //   w = [0.8583374, 0.8203189]. Store: (DLP, 1, DLP) for each row (count stays 1).
  // Step 2 (epoch 1): fmax_1 = 0.5 − (29/30)·(0.5 − 1e-12) + 1e-9 = 0.0166667; min-max scaled
  //   weights [0.0166667, 0.0159644, 1e-12] → p_c ≈ 3e-11: B' = {a, b}.
  //   l(w) on B' = [1.8099477, 1.3458460], loss 1.5778969; g = (1/2)·[4·w1, (1 + 4)·w2]
  //   = [1.7166748, 2.0507971], ||g|| = 2.6744609; e = 0.1·g/||g|| = [0.0641877, 0.0766808];
  //   w + e = [0.9225251, 0.8969996]; l(w + e) = [2.1044093, 1.6092166];
  //   DLP = [0.2944616, 0.2633706]; ∇L_{B'}(w + e) = [1.8450502, 2.2424990];
  //   w = [0.6738324, 0.5960689].
  //   Store: a (0.3388186 + 0.2944616, 2, 0.3166401), b (0.3245426 + 0.2633706, 2, 0.2939566),
  //   c unchanged (0, 1, 0).
  torch::manual_seed(0);
  Stepper s = ausam_stepper();
  auto p1 = s.step();
  expect_w(s, 0.8583374, 0.8203189);
  EXPECT_NEAR(s.last_loss, 5.0 / 3.0, 1e-6);
  EXPECT_EQ(p1.forward_samples, 6);
  auto after1 = sorted_stats(*s.opt);
  ASSERT_EQ(after1.size(0), 3);
  expect_row(after1, 0, 0.0, 1, 0.0);
  expect_row(after1, 1, 0.3245426, 1, 0.3245426);
  expect_row(after1, 2, 0.3388186, 1, 0.3388186);

  auto p2 = s.step();
  expect_w(s, 0.6738324, 0.5960689);
  EXPECT_NEAR(s.last_loss, 1.5778969, 1e-6);
  EXPECT_EQ(p2.forward_samples, 4);
  EXPECT_EQ(p2.backward_samples, 4);
  auto after2 = sorted_stats(*s.opt);
  expect_row(after2, 0, 0.0, 1, 0.0);
  expect_row(after2, 1, 0.5879132, 2, 0.2939566);
  expect_row(after2, 2, 0.6332801, 2, 0.3166401);
  EXPECT_EQ(saved(*s.opt, "ausam_epoch").item<std::int64_t>(), 1);
}

TEST(PassCounts, AusamSamplesAfterTheFirstEpoch) {
  // Eight samples in batches of four: rows 0-3, 4-7 (epoch 0: both passes on all 4 rows, 8
  // forward samples), then 0-3 again (all seen in epoch 0: epoch 1) and 4-7 (still epoch 1):
  // k = int(0.5·4) = 2 rows, 4 forward samples. Two passes of each kind at every step.
  const auto x = torch::tensor({{2.0f, 1.0f}, {0.0f, 2.0f}, {1.0f, 0.0f}, {2.0f, 0.0f},
                                {1.0f, 1.0f}, {3.0f, 1.0f}, {1.0f, 3.0f}, {0.0f, 1.0f}});
  torch::manual_seed(0);
  ElementwiseModel m({1, 1});
  auto opt = make_optimizer(m.parameters(), optimizer_params("ausam", "adam"));
  const std::int64_t expected[] = {8, 8, 4, 4};
  for (int t = 0; t < 4; ++t) {
    const auto rows = x.slice(0, (t % 2) * 4, (t % 2) * 4 + 4);
    StepContext ctx(m, rows, torch::zeros({4, 2}), {}, half_squared_error);
    opt->step(ctx);
    expect_passes(ctx.passes(), 2, 2, expected[t], expected[t], "step " + std::to_string(t));
  }
}

TEST(Ausam, SaveAndLoadKeepTheStoreAndTheEpoch) {
  // A fresh optimizer loaded after step 1 must take the sampled step 2 above; without the
  // state it would see epoch 0 again and step on all three rows.
  torch::manual_seed(0);
  Stepper a = ausam_stepper();
  a.step();
  Stepper b = ausam_stepper();
  b.model.copy_state_from(a.model);
  round_trip(*a.opt, *b.opt);
  torch::manual_seed(1);
  auto pb = b.step();
  torch::manual_seed(1);
  a.step();
  EXPECT_EQ(pb.forward_samples, 4);
  EXPECT_TRUE(torch::allclose(a.model.w, b.model.w));
  expect_w(b, 0.6738324, 0.5960689);
}

}  // namespace
}  // namespace gda::test
