// A small MLP for tests and tabular data: Flatten → Linear → ReLU (encoder) → Linear (head).
#include <torch/nn/modules/linear.h>

#include "stages/models/model.h"

namespace gda {
namespace {

class Mlp : public Model {
 public:
  Mlp(const Params& p, const InputShape& s) {
    std::int64_t in = 1;
    for (auto d : s.sample) in *= d;
    fc = register_module("fc", torch::nn::Linear(in, p.integer("hidden")));
    out = register_module("out", torch::nn::Linear(p.integer("hidden"), s.classes));
  }
  torch::Tensor encode(const torch::Tensor& x) override { return torch::relu(fc(x.flatten(1))); }
  torch::Tensor head(const torch::Tensor& f) override { return out(f); }
  std::vector<std::string> head_modules() const override { return {"out"}; }

 private:
  torch::nn::Linear fc{nullptr}, out{nullptr};
};

const bool registered = model_registry().add(
    {"mlp", "one hidden ReLU layer; for tests and tabular data",
     {integer("hidden", 64, "width of the hidden layer (= feature dimension)", 1, 65536)},
     [](const Params& p, const InputShape& s) -> ModelPtr { return std::make_shared<Mlp>(p, s); }});

}  // namespace
}  // namespace gda
