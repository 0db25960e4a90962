// The public gradual-self-training code's MNIST model (Kumar et al. 2020; GOAT):
//   3 × [Conv 3×3 pad 1 → ReLU] → Flatten → fc1 Linear → ReLU
//   → fc2 Linear(128→128) → ReLU → Dropout → BatchNorm1d → Linear(→classes)
// Where the encoder ends (`features`) matters only to feature-space generators (ot_path):
// "fc1" after fc1's ReLU (128 features); "conv" after the convolutions (C·H·W features,
// 25,088 for MNIST), GOAT's split, whose head then trains fc1 too.
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "core/choice.h"
#include "stages/models/model.h"

namespace gda {
namespace {

namespace nn = torch::nn;

/// Where encode() ends (key features).
enum class Features { fc1, conv };
const Choice<Features> kFeatures{{"fc1", Features::fc1}, {"conv", Features::conv}};

class Cnn : public Model {
 public:
  Cnn(const Params& p, const InputShape& s) {
    TORCH_CHECK(s.sample.size() == 3, "cnn needs image data [C, H, W]");
    const auto c = s.sample[0], h = s.sample[1], w = s.sample[2], ch = p.integer("channels"),
               hidden = p.integer("hidden");
    conv_features_ = kFeatures.of(p, "features") == Features::conv;
    conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(c, ch, 3).padding(1)));
    conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(ch, ch, 3).padding(1)));
    conv3 = register_module("conv3", nn::Conv2d(nn::Conv2dOptions(ch, ch, 3).padding(1)));
    fc1 = register_module("fc1", nn::Linear(ch * h * w, hidden));
    fc2 = register_module("fc2", nn::Linear(hidden, hidden));
    dropout = register_module("dropout", nn::Dropout(p.real("dropout")));
    bn = register_module("bn", nn::BatchNorm1d(hidden));
    out = register_module("out", nn::Linear(hidden, s.classes));
  }

  torch::Tensor encode(const torch::Tensor& x) override {
    auto z = torch::relu(conv1(x));
    z = torch::relu(conv2(z));
    z = torch::relu(conv3(z)).flatten(1);
    return conv_features_ ? z : torch::relu(fc1(z));
  }

  torch::Tensor head(const torch::Tensor& f) override {
    const auto h = conv_features_ ? torch::relu(fc1(f)) : f;
    return out(bn(dropout(torch::relu(fc2(h)))));
  }
  std::vector<std::string> head_modules() const override {
    if (conv_features_) return {"fc1", "fc2", "dropout", "bn", "out"};
    return {"fc2", "dropout", "bn", "out"};
  }

 private:
  nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  nn::Linear fc1{nullptr}, fc2{nullptr}, out{nullptr};
  nn::Dropout dropout{nullptr};
  nn::BatchNorm1d bn{nullptr};
  bool conv_features_ = false;
};

const bool registered = model_registry().add(
    {"cnn", "3 conv layers + MLP head with dropout and BatchNorm (the GDA papers' MNIST model)",
     {integer("channels", 32, "channels of each conv layer", 1, 4096),
      integer("hidden", 128, "width of the hidden linear layers (= feature dimension)", 1, 65536),
      real("dropout", 0.5, "dropout probability before BatchNorm", 0.0, 1.0),
      kFeatures.spec("features", Features::fc1,
           "where encode() ends, for feature-space generators (ot_path): \"fc1\" (128 features) or \"conv\" "
           "(the conv maps, GOAT's split; the head then includes fc1)")},
     [](const Params& p, const InputShape& s) -> ModelPtr { return std::make_shared<Cnn>(p, s); }});

}  // namespace
}  // namespace gda
