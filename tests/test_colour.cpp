#include "core/params.h"
#include "stages/shift/generator.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

std::vector<Domain> make_domains(const Params& p, const DataSplit& split, int T) {
  std::vector<Domain> d;
  for (auto& job : generator_registry().get("colour").make(p)->plan(split, T, 0)) d.push_back(job.make());
  return d;
}

DataSplit split_of(const torch::Tensor& image) {
  DataSplit s;
  auto y = torch::zeros({1}, torch::kInt64);
  s.source = {image.clone(), y};
  s.intermediate = {image.repeat({3, 1, 1, 1}), torch::zeros({3}, torch::kInt64)};
  s.target = {image.clone(), y};
  return s;
}

TEST(Colour, IntensityMovesFromZeroOneToOneTwo) {
  // A 2×2 grey image [0, 0.25; 0.5, 1]. T = 3: positions 0.25, 0.5, 0.75, target 1:
  // every pixel moves by t·1, so the target is [1, 1.25; 1.5, 2] and inter2 (t = 0.5)
  // is [0.5, 0.75; 1, 1.5]. The source is untouched.
  auto img = torch::tensor({0.0f, 0.25f, 0.5f, 1.0f}).reshape({1, 1, 2, 2});
  Params p = Params::defaults(generator_registry().get("colour").params);
  auto d = make_domains(p, split_of(img), 3);
  ASSERT_EQ(d.size(), 5u);
  EXPECT_TRUE(torch::equal(d[0].x, img));
  EXPECT_DOUBLE_EQ(d[2].position, 0.5);
  EXPECT_TRUE(torch::allclose(d[2].x, torch::tensor({0.5f, 0.75f, 1.0f, 1.5f}).reshape({1, 1, 2, 2})));
  EXPECT_TRUE(torch::allclose(d[4].x, torch::tensor({1.0f, 1.25f, 1.5f, 2.0f}).reshape({1, 1, 2, 2})));
  EXPECT_EQ(d[4].name, "target");
}

TEST(Colour, HueTurnsRedToGreenToBlue) {
  // Pure red has hue 0°. With hue_degrees = 240 and T = 1 (inter1 at t = 0.5): inter1
  // turns by 120° → pure green, the target by 240° → pure blue. Saturation and value stay.
  auto red = torch::tensor({1.0f, 0.0f, 0.0f}).reshape({1, 3, 1, 1});
  Params p = Params::defaults(generator_registry().get("colour").params);
  p.set("mode", std::string("hue"));
  p.set("hue_degrees", 240.0);
  DataSplit s;
  s.source = {red.clone(), torch::zeros({1}, torch::kInt64)};
  s.intermediate = {red.clone(), torch::zeros({1}, torch::kInt64)};
  s.target = {red.clone(), torch::zeros({1}, torch::kInt64)};
  auto d = make_domains(p, s, 1);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_TRUE(torch::allclose(d[0].x, red, 0, 1e-5));
  EXPECT_TRUE(torch::allclose(d[1].x, torch::tensor({0.0f, 1.0f, 0.0f}).reshape({1, 3, 1, 1}), 0, 1e-5));
  EXPECT_TRUE(torch::allclose(d[2].x, torch::tensor({0.0f, 0.0f, 1.0f}).reshape({1, 3, 1, 1}), 0, 1e-5));
}

TEST(Colour, HueOnGreyImagesIsAClearError) {
  Params p = Params::defaults(generator_registry().get("colour").params);
  p.set("mode", std::string("hue"));
  auto img = torch::zeros({1, 1, 2, 2});
  EXPECT_THROW(generator_registry().get("colour").make(p)->plan(split_of(img), 2, 0), UserError);
}

}  // namespace
}  // namespace gda::test
