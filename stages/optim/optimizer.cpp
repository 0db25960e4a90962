#include "stages/optim/optimizer.h"

#include <torch/torch.h>

namespace gda {

Optimizer::Optimizer(std::vector<torch::Tensor> params, std::unique_ptr<torch::optim::Optimizer> base)
    : params_(std::move(params)), base_(std::move(base)) {}

Optimizer::~Optimizer() = default;

void Optimizer::base_step() { base_->step(); }

void Optimizer::begin_stage(const StageInputs&) {}

void Optimizer::save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive base;
  base_->save(base);
  archive.write("base", base);
}

void Optimizer::load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive base;
  archive.read("base", base);
  base_->load(base);
}

BaseOptimizerRegistry& base_optimizer_registry() {
  static BaseOptimizerRegistry r("base optimizer");
  return r;
}

OptimizerRegistry& optimizer_registry() {
  static OptimizerRegistry r("optimizer");
  return r;
}

std::unique_ptr<torch::optim::Optimizer> make_base_optimizer(std::vector<torch::Tensor> params,
                                                             const Params& p) {
  return base_optimizer_registry().get(p.text("base")).make(std::move(params), p);
}

std::unique_ptr<Optimizer> make_optimizer(std::vector<torch::Tensor> params, const Params& p) {
  return optimizer_registry().get(p.text("name")).make(std::move(params), p);
}

double squared_norm(const std::vector<torch::Tensor>& tensors) {
  double s = 0;
  // One pass per tensor without temporaries (a float64 copy of 3M weights costs ~3 % of
  // a SAM step); LibTorch's norm accumulates pairwise, accurate to float rounding.
  for (const auto& t : tensors)
    if (t.defined()) {
      const double n = t.norm().item<double>();
      s += n * n;
    }
  return s;
}

std::vector<torch::Tensor> gradients(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> g;
  for (const auto& p : params) g.push_back(p.grad().defined() ? p.grad() : torch::zeros_like(p));
  return g;
}

void add_to(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& delta,
            double alpha) {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i) params[i].add_(delta[i], alpha);
}

std::vector<torch::Tensor> snapshot(const std::vector<torch::Tensor>& params) {
  std::vector<torch::Tensor> s;
  for (const auto& p : params) s.push_back(p.detach().clone());
  return s;
}

void restore(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& saved) {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < params.size(); ++i) params[i].copy_(saved[i]);
}

}  // namespace gda
