#include "core/params.h"
#include "stages/shift/generator.h"
#include "stages/shift/rotate_images.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

torch::Tensor asymmetric_image(int h, int w) {
  // An L-shaped stroke plus a gradient: no rotation or flip maps it onto itself.
  auto x = torch::zeros({1, 1, h, w});
  for (int i = 0; i < h; ++i)
    for (int j = 0; j < w; ++j) x[0][0][i][j] = float(i * w + j) / float(h * w);
  x[0][0].slice(0, 1, h - 1).select(1, 1).fill_(1.0f);
  return x;
}

TEST(RotateImages, ZeroDegreesIsTheIdentity) {
  auto x = asymmetric_image(9, 9);
  EXPECT_TRUE(torch::allclose(rotate_images(x, {0.0}), x, 0, 1e-6));
}

TEST(RotateImages, NinetyDegreesIsTransposeThenFlip) {
  // Counter-clockwise by 90° about the centre of a square image: out[i][j] = in[j][W-1-i],
  // i.e. the transpose flipped upside down.
  auto x = asymmetric_image(7, 7);
  auto expected = x.transpose(2, 3).flip({2});
  EXPECT_TRUE(torch::allclose(rotate_images(x, {90.0}), expected, 0, 1e-5));
  // And −90° the other way: flip left-right after transposing.
  EXPECT_TRUE(torch::allclose(rotate_images(x, {-90.0}), x.transpose(2, 3).flip({3}), 0, 1e-5));
}

TEST(RotateImages, OutsideIsFilledWithZero) {
  auto x = torch::ones({1, 1, 8, 8});
  auto r = rotate_images(x, {45.0});
  EXPECT_EQ(r[0][0][0][0].item<float>(), 0.0f);   // a corner comes from outside the image
  EXPECT_NEAR(r[0][0][4][4].item<float>(), 1.0f, 1e-6);  // the centre stays
}

TEST(Rotation, PlanFollowsTheAngleSchedule) {
  // 10 intermediate samples into T = 3 domains of 3 (one left out); positions 1/4, 2/4, 3/4.
  DataSplit split;
  auto make = [](int n) { return Dataset{torch::zeros({n, 1, 5, 5}), torch::zeros({n}, torch::kInt64)}; };
  split.source = make(4);
  split.intermediate = make(10);
  split.target = make(2);
  Params p = Params::defaults(generator_registry().get("rotation").params);
  auto jobs = generator_registry().get("rotation").make(p)->plan(split, 3, 0);
  ASSERT_EQ(jobs.size(), 5u);
  EXPECT_EQ(jobs[0].name, "source");
  EXPECT_EQ(jobs[4].name, "target");
  EXPECT_DOUBLE_EQ(jobs[2].position, 0.5);
  EXPECT_EQ(jobs[1].make().size(), 3);
  EXPECT_EQ(jobs[4].make().size(), 2);
  auto group = equal_groups(7000, 10)[3];
  EXPECT_EQ(group.first, 2100);
  EXPECT_EQ(group.second, 2800);
}

TEST(Rotation, IntermediateAnglesGrowLinearly) {
  // A one-hot pixel to the right of the centre moves up as the angle grows: the k-th of n
  // intermediate images is rotated by 5 + 55·k/n degrees. With n = 4 and T = 4 the angles
  // are 5, 18.75, 32.5, 46.25; check the pixel's new place against cos/sin of each.
  const int side = 41;
  auto img = torch::zeros({1, 1, side, side});
  img[0][0][20][35] = 1.0f;  // 15 px right of the centre (20, 20)
  DataSplit split;
  split.source = {img.clone(), torch::zeros({1}, torch::kInt64)};
  split.intermediate = {img.repeat({4, 1, 1, 1}), torch::zeros({4}, torch::kInt64)};
  split.target = {img.clone(), torch::zeros({1}, torch::kInt64)};
  Params p = Params::defaults(generator_registry().get("rotation").params);
  auto jobs = generator_registry().get("rotation").make(p)->plan(split, 4, 0);
  for (int k = 0; k < 4; ++k) {
    auto d = jobs[1 + k].make();
    double a = (5.0 + 55.0 * k / 4.0) * M_PI / 180.0;
    // Centre of mass of the rotated pixel; bilinear smearing moves it by < 0.1 px, while
    // one degree of error at 15 px would move it by 0.26 px.
    auto m = d.x[0][0];
    auto rows = torch::arange(side).to(torch::kFloat32).unsqueeze(1), cols = torch::arange(side).to(torch::kFloat32);
    double total = m.sum().item<double>();
    double r = (m * rows).sum().item<double>() / total, c = (m * cols).sum().item<double>() / total;
    EXPECT_NEAR(c, 20 + 15 * std::cos(a), 0.12) << k;
    EXPECT_NEAR(r, 20 - 15 * std::sin(a), 0.12) << k;  // counter-clockwise: up in image rows
  }
}

}  // namespace
}  // namespace gda::test
