#include "stages/models/model.h"

#include <torch/torch.h>

#include <mutex>

namespace gda {

ModelRegistry& model_registry() {
  static ModelRegistry r("model");
  return r;
}

ModelPtr make_model(const std::string& name, const Params& p, const InputShape& shape) {
  const auto& entry = model_registry().get(name);
  auto factory = entry.make;
  auto m = factory(p, shape);
  m->make_fresh = [factory, p, shape]() { return factory(p, shape); };
  return m;
}

void Model::copy_state_from(const Model& other) {
  torch::NoGradGuard no_grad;
  auto dst = named_parameters(true);
  for (const auto& src : other.named_parameters(true)) dst[src.key()].copy_(src.value());
  auto dst_b = named_buffers(true);
  for (const auto& src : other.named_buffers(true)) dst_b[src.key()].copy_(src.value());
}

c10::Device Model::device() const {
  for (const auto& p : parameters()) return p.device();
  for (const auto& b : buffers()) return b.device();
  return c10::Device(c10::kCPU);
}

namespace {

/// Puts LibTorch's global CPU generator back where it was when the guard was made, also when
/// an exception passes. Only the state is saved: a draw by another thread meanwhile would be
/// replayed, which is why quiet_clone() belongs on the thread of the run's draws.
class GlobalGeneratorGuard {
 public:
  GlobalGeneratorGuard() : gen_(at::detail::getDefaultCPUGenerator()) {
    std::lock_guard<std::mutex> lock(gen_.mutex());
    state_ = gen_.get_state();
  }
  ~GlobalGeneratorGuard() {
    std::lock_guard<std::mutex> lock(gen_.mutex());
    gen_.set_state(state_);
  }
  GlobalGeneratorGuard(const GlobalGeneratorGuard&) = delete;
  GlobalGeneratorGuard& operator=(const GlobalGeneratorGuard&) = delete;

 private:
  at::Generator gen_;
  torch::Tensor state_;
};

}  // namespace

std::shared_ptr<Model> Model::quiet_clone() const {
  const GlobalGeneratorGuard keep;
  return clone_model();
}

std::shared_ptr<Model> Model::clone_model() const {
  auto m = make_fresh();  // made on the CPU, as every factory makes its models
  m->make_fresh = make_fresh;
  m->to(device());
  m->copy_state_from(*this);
  m->train(is_training());
  return m;
}

}  // namespace gda
