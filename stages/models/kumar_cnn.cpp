// Kumar, Ma and Liang's rotating-MNIST model (ICML 2020; p-lambda/gradual_domain_adaptation,
// models.py, simple_softmax_conv_model), in Keras:
//   3 × [Conv 5×5, stride 2, 'same', 32 channels → ReLU] → Dropout 0.5 → BatchNormalization
//   → Flatten → Dense(classes) (softmax in Keras; gda's losses take the logits)
// Read as Keras builds it:
// - BatchNormalization on the conv maps is per channel (axis −1), with Keras's defaults:
//   momentum 0.99 (LibTorch's 0.01: the weight of the new batch) and epsilon 1e-3.
// - Dropout is element-wise on the maps (not spatial).
// - Weights start Glorot-uniform and biases at zero, as Keras's layers do; LibTorch's own
//   default (Kaiming-uniform) would be a different model at step 0.
// - 'same' with stride 2 pads 5×5 kernels asymmetrically in TensorFlow (1 before, 2 after on
//   28 pixels); LibTorch pads 2 on both sides. The maps have the same sizes (28 → 14 → 7 → 4)
//   and the model trains from scratch, so only the pixels' alignment under the kernel differs.
// encode() ends after BatchNorm and Flatten (32·4·4 = 512 features on MNIST); the head is
// the last Dense layer.
#include <torch/nn/init.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>

#include "stages/models/model.h"

namespace gda {
namespace {

namespace nn = torch::nn;

/// Side of a 'same' convolution's output at stride 2.
std::int64_t halved(std::int64_t side) { return (side + 1) / 2; }

class KumarCnn : public Model {
 public:
  KumarCnn(const Params& p, const InputShape& s) {
    TORCH_CHECK(s.sample.size() == 3, "kumar_cnn needs image data [C, H, W]");
    const auto c = s.sample[0], ch = p.integer("channels");
    const auto h = halved(halved(halved(s.sample[1]))), w = halved(halved(halved(s.sample[2])));
    conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(c, ch, 5).stride(2).padding(2)));
    conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(ch, ch, 5).stride(2).padding(2)));
    conv3 = register_module("conv3", nn::Conv2d(nn::Conv2dOptions(ch, ch, 5).stride(2).padding(2)));
    dropout = register_module("dropout", nn::Dropout(p.real("dropout")));
    bn = register_module("bn", nn::BatchNorm2d(nn::BatchNormOptions(ch).momentum(0.01).eps(1e-3)));
    out = register_module("out", nn::Linear(ch * h * w, s.classes));
    torch::NoGradGuard no_grad;
    for (auto* layer : {&conv1, &conv2, &conv3}) {
      nn::init::xavier_uniform_((*layer)->weight);
      nn::init::zeros_((*layer)->bias);
    }
    nn::init::xavier_uniform_(out->weight);
    nn::init::zeros_(out->bias);
  }

  torch::Tensor encode(const torch::Tensor& x) override {
    auto z = torch::relu(conv1(x));
    z = torch::relu(conv2(z));
    z = torch::relu(conv3(z));
    return bn(dropout(z)).flatten(1);
  }

  torch::Tensor head(const torch::Tensor& f) override { return out(f); }
  std::vector<std::string> head_modules() const override { return {"out"}; }

 private:
  nn::Conv2d conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  nn::Dropout dropout{nullptr};
  nn::BatchNorm2d bn{nullptr};
  nn::Linear out{nullptr};
};

const bool registered = model_registry().add(
    {"kumar_cnn",
     "Kumar et al. 2020's rotating-MNIST model: 3 conv 5x5 stride 2, dropout, BatchNorm, one dense layer "
     "(Keras's initialisation and BatchNorm defaults)",
     {integer("channels", 32, "channels of each conv layer", 1, 4096),
      real("dropout", 0.5, "dropout probability on the conv maps, before BatchNorm", 0.0, 1.0)},
     [](const Params& p, const InputShape& s) -> ModelPtr { return std::make_shared<KumarCnn>(p, s); }});

}  // namespace
}  // namespace gda
