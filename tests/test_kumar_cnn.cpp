// Kumar et al.'s rotating-MNIST model (stages/models/kumar_cnn.cpp): Keras's layer sizes,
// initialisation and BatchNorm defaults, and a run through the real pipeline.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "core/files.h"
#include "pipeline/config.h"
#include "pipeline/run.h"
#include "stages/models/model.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

ModelPtr kumar(const InputShape& shape = {{1, 28, 28}, 10}) {
  return make_model("kumar_cnn", Params::defaults(model_registry().get("kumar_cnn").params), shape);
}

TEST(KumarCnn, HasKerasLayerSizes) {
  torch::manual_seed(0);
  const auto m = kumar();
  const auto params = m->named_parameters();
  EXPECT_EQ(params["conv1.weight"].sizes(), (std::vector<std::int64_t>{32, 1, 5, 5}));
  EXPECT_EQ(params["conv3.weight"].sizes(), (std::vector<std::int64_t>{32, 32, 5, 5}));
  // 'same' at stride 2: 28 → 14 → 7 → 4, so 32·4·4 = 512 features reach the dense layer.
  EXPECT_EQ(params["out.weight"].sizes(), (std::vector<std::int64_t>{10, 512}));
  // Keras's count for this model: 3 convs (832 + 25,632 + 25,632), BatchNorm's 64 trained
  // parameters and the dense layer's 5,130.
  std::int64_t count = 0;
  for (const auto& p : m->parameters()) count += p.numel();
  EXPECT_EQ(count, 832 + 25632 + 25632 + 64 + 5130);
  m->eval();
  const auto x = torch::rand({3, 1, 28, 28});
  EXPECT_EQ(m->encode(x).sizes(), (std::vector<std::int64_t>{3, 512}));
  EXPECT_EQ(m->forward(x).sizes(), (std::vector<std::int64_t>{3, 10}));
  // An odd side: 'same' rounds up (9 → 5 → 3 → 2).
  const auto odd = kumar({{1, 9, 9}, 4});
  odd->eval();
  EXPECT_EQ(odd->forward(torch::rand({2, 1, 9, 9})).sizes(), (std::vector<std::int64_t>{2, 4}));
}

TEST(KumarCnn, StartsAsKerasDoesGlorotWeightsZeroBiases) {
  torch::manual_seed(1);
  const auto m = kumar();
  const auto params = m->named_parameters();
  // Glorot-uniform bound sqrt(6 / (fan_in + fan_out)); fans of a conv count its kernel area.
  const auto bound = [](double fan_in, double fan_out) { return std::sqrt(6.0 / (fan_in + fan_out)); };
  const double conv1 = bound(1 * 25, 32 * 25), out = bound(512, 10);
  EXPECT_LE(params["conv1.weight"].abs().max().item<double>(), conv1);
  EXPECT_GT(params["conv1.weight"].abs().max().item<double>(), 0.95 * conv1);  // 800 draws reach the edge
  EXPECT_LE(params["out.weight"].abs().max().item<double>(), out);
  EXPECT_GT(params["out.weight"].abs().max().item<double>(), 0.95 * out);
  for (const auto* name : {"conv1.bias", "conv2.bias", "conv3.bias", "out.bias"})
    EXPECT_EQ(params[name].abs().max().item<double>(), 0.0) << name;
}

TEST(KumarCnn, BatchNormUsesKerasMomentumAndEpsilonPerChannel) {
  const auto m = kumar();
  const auto bn = m->named_modules()["bn"]->as<torch::nn::BatchNorm2d>();
  ASSERT_NE(bn, nullptr);
  EXPECT_EQ(bn->options.num_features(), 32);
  EXPECT_DOUBLE_EQ(bn->options.momentum().value(), 0.01);  // Keras momentum 0.99
  EXPECT_DOUBLE_EQ(bn->options.eps(), 1e-3);
  // One training batch moves the running mean 1 % of the way to the batch's channel means.
  torch::manual_seed(2);
  m->train();
  m->forward(torch::rand({8, 1, 28, 28}));
  EXPECT_GT(bn->running_mean.abs().max().item<double>(), 0.0);
  EXPECT_LT(bn->running_mean.abs().max().item<double>(), 0.05);
  EXPECT_EQ(m->head_modules(), std::vector<std::string>{"out"});
}

TEST(KumarCnn, TrainsThroughTheRealPipeline) {
  const std::string dir = temp_dir("kumar-run");
  std::string config = tiny_config(1);
  const std::string cnn = "name = \"cnn\"\nchannels = 4\nhidden = 32\ndropout = 0.1\n";
  ASSERT_NE(config.find(cnn), std::string::npos);
  config.replace(config.find(cnn), cnn.size(), "name = \"kumar_cnn\"\nchannels = 8\ndropout = 0.1\n");
  const RunSummary s = run_experiment(parse_config(config, "tiny.toml"), {dir, nullptr});
  ASSERT_EQ(s.status, RunStatus::ok) << s.error;
  ASSERT_TRUE(s.final_target_accuracy.has_value());
  // Source training on three well-separated synthetic classes is learnt well above chance.
  ASSERT_TRUE(s.zero_shot_target_accuracy.has_value());
  const auto stages = read_text(dir + "/stages.jsonl");
  EXPECT_NE(stages.find("\"stage\":2"), std::string::npos);  // source, inter1, target
}

}  // namespace
}  // namespace gda::test
