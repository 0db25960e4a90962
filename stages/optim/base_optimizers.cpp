// The base optimizers, from torch::optim, and their plain use: one forward and one
// backward per step (1 fwd / 1 bwd).
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include "stages/optim/optimizer.h"

namespace gda {
namespace {

std::unique_ptr<torch::optim::Optimizer> make_sgd(std::vector<torch::Tensor> w, const Params& p) {
  if (p.flag("nesterov") && p.real("momentum") <= 0)
    throw UserError("optimizer.nesterov = true needs optimizer.momentum > 0");
  return std::make_unique<torch::optim::SGD>(
      w, torch::optim::SGDOptions(p.real("lr"))
             .momentum(p.real("momentum"))
             .nesterov(p.flag("nesterov"))
             .weight_decay(p.real("weight_decay")));
}

std::unique_ptr<torch::optim::Optimizer> make_adam(std::vector<torch::Tensor> w, const Params& p) {
  return std::make_unique<torch::optim::Adam>(
      w, torch::optim::AdamOptions(p.real("lr"))
             .betas({p.real("beta1"), p.real("beta2")})
             .eps(p.real("eps"))
             .weight_decay(p.real("weight_decay")));
}

std::unique_ptr<torch::optim::Optimizer> make_adamw(std::vector<torch::Tensor> w, const Params& p) {
  return std::make_unique<torch::optim::AdamW>(
      w, torch::optim::AdamWOptions(p.real("lr"))
             .betas({p.real("beta1"), p.real("beta2")})
             .eps(p.real("eps"))
             .weight_decay(p.real("weight_decay")));
}

ParamSpecs adam_specs(double weight_decay, const std::string& decay_doc) {
  return {positive("lr", 1e-3, "learning rate"),
          real("beta1", 0.9, "first-moment decay", 0.0, 1.0),
          real("beta2", 0.999, "second-moment decay", 0.0, 1.0),
          positive("eps", 1e-8, "denominator epsilon"),
          real("weight_decay", weight_decay, decay_doc, 0.0)};
}

const ParamSpecs kSgd = {positive("lr", 0.01, "learning rate"),
                         real("momentum", 0.0, "momentum factor", 0.0, 1.0),
                         flag("nesterov", false, "Nesterov momentum (needs momentum > 0)"),
                         real("weight_decay", 0.0, "L2 penalty added to the gradient", 0.0)};
const ParamSpecs kAdam = adam_specs(1e-4, "L2 penalty added to the gradient (as torch.optim.Adam)");
const ParamSpecs kAdamW = adam_specs(1e-2, "decoupled weight decay (Loshchilov and Hutter 2019)");

/// A base optimizer used plainly: one loss and gradient, one base step.
class Plain : public Optimizer {
 public:
  using Optimizer::Optimizer;
  torch::Tensor step(StepContext& ctx) override {
    auto loss = ctx.loss_and_grad();
    base_step();
    return loss;
  }
};

bool register_base(const std::string& name, const std::string& summary, const ParamSpecs& specs,
                   BaseOptimizerFactory make) {
  base_optimizer_registry().add({name, summary, specs, make});
  optimizer_registry().add({name, summary, specs,
                            [](std::vector<torch::Tensor> w, const Params& p) -> std::unique_ptr<Optimizer> {
                              auto base = make_base_optimizer(w, p);
                              return std::make_unique<Plain>(std::move(w), std::move(base));
                            },
                            "1 fwd / 1 bwd"});
  return true;
}

const bool registered =
    register_base("sgd", "stochastic gradient descent with momentum, Nesterov, weight decay", kSgd, make_sgd) &&
    register_base("adam", "Adam (Kingma and Ba, ICLR 2015); L2 weight decay", kAdam, make_adam) &&
    register_base("adamw", "AdamW (Loshchilov and Hutter, ICLR 2019); decoupled weight decay", kAdamW, make_adamw);

}  // namespace
}  // namespace gda
