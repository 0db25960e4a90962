// The Gaussian dataset of Kumar et al. (2020) and rotating point clouds.
#include "datasets/dataset.h"
#include "pipeline/config.h"
#include "pipeline/run.h"
#include "stages/shift/rotate_images.h"
#include "tests/gaussian_run.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

TEST(Gaussian, TwoBalancedClassesAroundTheirMeans) {
  const Params p = parse_config("[data]\nname = \"gaussian\"\nsize = 4000\ndim = 3\nseparation = 6.0\nstd = 0.5\n",
                                "t.toml").section("data");
  const Dataset d = dataset_registry().get("gaussian").make(p, {});
  ASSERT_EQ(d.x.sizes(), (std::vector<std::int64_t>{4000, 3}));
  for (int k = 0; k < 2; ++k) {
    const auto rows = d.x.index_select(0, (d.y == k).nonzero().squeeze(1));
    EXPECT_EQ(rows.size(0), 2000);
    const auto mean = rows.mean(0), std = rows.std(0);
    // Means ±3 on the first axis, 0 elsewhere; std 0.5: the sample mean is within 4 std errors
    // (0.5/√2000 ≈ 0.011).
    EXPECT_NEAR(mean[0].item<double>(), k == 0 ? -3.0 : 3.0, 0.045);
    EXPECT_NEAR(mean[1].item<double>(), 0.0, 0.045);
    EXPECT_NEAR(std[2].item<double>(), 0.5, 0.03);
  }
}

TEST(RotatePoints, TurnsTheFirstPlaneOnly) {
  const auto x = torch::tensor({{1.0f, 0.0f, 5.0f}, {0.0f, 2.0f, 7.0f}});
  const auto r = rotate_points(x, {90.0, 180.0});
  // (1, 0) by 90° → (0, 1); (0, 2) by 180° → (0, −2); the third coordinate stays.
  EXPECT_TRUE(torch::allclose(r, torch::tensor({{0.0f, 1.0f, 5.0f}, {0.0f, -2.0f, 7.0f}}), 1e-6, 1e-6));
}

TEST(Gaussian, RotatingGaussiansRunEndToEnd) {
  auto dir = temp_dir("gauss");
  GaussianRun run;
  run.size = 3000, run.source = 500, run.intermediate = 2000, run.target = 500, run.adaptation_epochs = 3;
  run.shift = R"(generator = "rotation"
T = 4
intermediate_start = 10.0
intermediate_end = 90.0
target_min = 85.0
target_max = 90.0)";
  const std::string config = gaussian_run_config(run);
  const auto s = run_experiment(parse_config(config, "gauss.toml"), {dir, nullptr});
  ASSERT_EQ(s.status, RunStatus::ok);
  // At 90° the classes lie along the second axis: a source model of the first axis is at
  // chance (0.5); gradual self-training must carry it far above.
  EXPECT_LT(*s.zero_shot_target_accuracy, 0.75);
  EXPECT_GT(*s.final_target_accuracy, 0.9);
}

}  // namespace
}  // namespace gda::test
