// The interpolation generator: the mixing rule at t = 0, 1/2, 1 on hand-made images, the
// random pairing, a whole plan through the registry, and its config composition with rotation.
#include <set>

#include "pipeline/config.h"
#include "core/error.h"
#include "core/random.h"
#include "pipeline/run.h"
#include "stages/shift/generator.h"
#include "stages/shift/interpolation.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

TEST(Interpolation, EndpointsAndMidpointOnHandMadeImages) {
  const auto xs = torch::tensor({{0.0f, 1.0f}, {2.0f, 4.0f}}).reshape({2, 1, 1, 2});
  const auto xt = torch::tensor({{10.0f, 20.0f}, {30.0f, 40.0f}, {50.0f, 60.0f}}).reshape({3, 1, 1, 2});
  const auto partner = torch::tensor({2, 0}, torch::kInt64);
  EXPECT_TRUE(torch::equal(interpolate(xs, xt, partner, 0.0), xs));
  EXPECT_TRUE(torch::equal(interpolate(xs, xt, partner, 1.0), xt.index_select(0, partner)));
  // t = 0.5: row 0 mixes [0, 1] with [50, 60] → [25, 30.5]; row 1 [2, 4] with [10, 20] → [6, 12].
  const auto mid = interpolate(xs, xt, partner, 0.5).reshape({2, 2});
  EXPECT_TRUE(torch::allclose(mid, torch::tensor({{25.0f, 30.5f}, {6.0f, 12.0f}})));
}

TEST(Interpolation, RandomPartnersUseEveryTargetOnceBeforeRepeating) {
  const auto p = random_partners(5, 3, 7);
  ASSERT_EQ(p.size(0), 5);
  // The first 3 are a permutation of 0..2; the rest start another.
  auto first = std::get<0>(p.slice(0, 0, 3).sort());
  EXPECT_TRUE(torch::equal(first, torch::tensor({0, 1, 2}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(random_partners(5, 3, 7), p));  // the seed fixes them
  // Fewer sources than targets: all partners differ.
  const auto q = random_partners(4, 10, 1);
  std::set<std::int64_t> distinct;
  for (int i = 0; i < 4; ++i) distinct.insert(q[i].item<std::int64_t>());
  EXPECT_EQ(distinct.size(), 4u);
}

Params shift_params(const std::string& extra) {
  return parse_config("[shift]\ngenerator = \"interpolation\"\n" + extra, "t.toml").section("shift");
}

TEST(Interpolation, PlanMixesTheEndpointsStylesAtEachPosition) {
  // Rotation endpoints: source style 0°, target style exactly 90° (so both are exact).
  const Params p = shift_params("source_min = 0.0\nsource_max = 0.0\ntarget_min = 90.0\ntarget_max = 90.0\n");
  auto gen = generator_registry().get("interpolation").make(p);
  Rng rng(1);
  auto images = torch::rand({40, 1, 6, 6});
  auto labels = torch::arange(40, torch::kInt64) % 2;
  DataSplit split{{images.slice(0, 0, 10), labels.slice(0, 0, 10)},
                  {images.slice(0, 10, 30), labels.slice(0, 10, 30)},
                  {images.slice(0, 30, 40), labels.slice(0, 30, 40)}};
  auto jobs = gen->plan(split, 2, 3);
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_EQ(jobs[1].name, "inter1");
  EXPECT_DOUBLE_EQ(jobs[1].position, 1.0 / 3.0);
  const Domain target = jobs[3].make();
  // The target is the 90° turn of its images: transpose, then flip rows.
  EXPECT_TRUE(torch::allclose(target.x, split.target.x.transpose(2, 3).flip(2), 1e-5, 1e-5));
  const Domain inter = jobs[1].make();
  ASSERT_EQ(inter.size(), 10);
  EXPECT_TRUE(torch::equal(inter.y, split.intermediate.y.slice(0, 0, 10)));  // the source images' labels
  // Every row is (2/3)·its pool image + (1/3)·some target image.
  const auto rest = (inter.x - split.intermediate.x.slice(0, 0, 10) * (2.0 / 3.0)) * 3.0;
  for (int i = 0; i < 10; ++i) {
    const auto d = (target.x - rest[i].unsqueeze(0)).abs().flatten(1).amax(1);
    EXPECT_LT(d.min().item<double>(), 1e-4) << "row " << i;
  }
}

TEST(Interpolation, ConfigTakesTheEndpointsKeysAndRefusesItself) {
  EXPECT_NO_THROW(shift_params("endpoints = \"rotation\"\ntarget_min = 30.0\n"));
  EXPECT_NO_THROW(shift_params("endpoints = \"colour\"\ntarget_shift = 2.0\n"));
  try {
    shift_params("endpoints = \"colour\"\ntarget_min = 30.0\n");  // a rotation key
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("shift.target_min"), std::string::npos) << e.what();
  }
  EXPECT_THROW(generator_registry().get("interpolation").make(shift_params("endpoints = \"interpolation\"\n")),
               UserError);
}

TEST(Interpolation, OptimalTransportPairsByThePlanNotByNearestNeighbour) {
  // 1-D points. Sources {0, 10}, targets {9.5, 0.2}: the plan sends 0 → 0.2 and 10 → 9.5.
  auto column = [](std::vector<float> v) { return torch::tensor(v).reshape({std::int64_t(v.size()), 1}); };
  EXPECT_TRUE(torch::equal(ot_partners(column({0, 10}), column({9.5f, 0.2f})), torch::tensor({1, 0}, torch::kInt64)));
  // Sources {4, 6}, targets {5, 100}: both are nearest to 5, but uniform masses make the plan
  // a permutation, and 4 → 5, 6 → 100 (cost 1 + 8836) beats 4 → 100, 6 → 5 (9216 + 1).
  EXPECT_TRUE(torch::equal(ot_partners(column({4, 6}), column({5, 100})), torch::tensor({0, 1}, torch::kInt64)));
  // More sources than targets: each source takes the target holding most of its mass.
  // Sources {0, 1, 10, 11}, targets {0.5, 10.5}: the plan splits no source.
  EXPECT_TRUE(torch::equal(ot_partners(column({0, 1, 10, 11}), column({0.5f, 10.5f})),
                           torch::tensor({0, 0, 1, 1}, torch::kInt64)));
}

TEST(Interpolation, OtPairingRunsEndToEnd) {
  auto dir = temp_dir("interp_ot");
  auto s = run_experiment(parse_config(tiny_config(2), "tiny.toml",
                                       {"shift.generator=interpolation", "shift.pairing=ot"}),
                          {dir, nullptr});
  EXPECT_EQ(s.status, RunStatus::ok);
  ASSERT_TRUE(s.final_target_accuracy);
}

TEST(Interpolation, RunsEndToEndFromConfigAlone) {
  auto dir = temp_dir("interp");
  auto s = run_experiment(parse_config(tiny_config(2), "tiny.toml",
                                       {"shift.generator=interpolation"}),
                          {dir, nullptr});
  EXPECT_EQ(s.status, RunStatus::ok);
  ASSERT_TRUE(s.final_target_accuracy);
}

}  // namespace
}  // namespace gda::test
