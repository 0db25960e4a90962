#include "stages/models/model.h"

#include <torch/torch.h>

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

std::shared_ptr<Model> Model::clone_model() const {
  auto m = make_fresh();  // made on the CPU, as every factory makes its models
  m->make_fresh = make_fresh;
  m->to(device());
  m->copy_state_from(*this);
  m->train(is_training());
  return m;
}

}  // namespace gda
