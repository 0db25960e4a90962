// The base optimizers: torch::optim's, with the multi-tensor step of multi_tensor.h. Named
// in `name`, make_optimizer uses one plainly (one forward and one backward per step, 1 fwd /
// 1 bwd); named in `base`, it is built once and handed to the variant.
#include "stages/optim/multi_tensor.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

BaseOptimizer make_sgd(Tensors w, const Params& p) {
  return std::make_unique<MultiTensorSgd>(
      w, torch::optim::SGDOptions(p.real("lr"))
             .momentum(p.real("momentum"))
             .nesterov(p.flag("nesterov"))
             .weight_decay(p.real("weight_decay")));
}

BaseOptimizer make_adam(Tensors w, const Params& p) {
  return std::make_unique<MultiTensorAdam>(
      w, torch::optim::AdamOptions(p.real("lr"))
             .betas({p.real("beta1"), p.real("beta2")})
             .eps(p.real("eps"))
             .weight_decay(p.real("weight_decay")));
}

BaseOptimizer make_adamw(Tensors w, const Params& p) {
  return std::make_unique<MultiTensorAdamW>(
      w, torch::optim::AdamWOptions(p.real("lr"))
             .betas({p.real("beta1"), p.real("beta2")})
             .eps(p.real("eps"))
             .weight_decay(p.real("weight_decay")));
}

ParamSpecs adam_specs(double weight_decay, const std::string& decay_doc) {
  return {positive("lr", 1e-3, "learning rate"),
          decay_rate("beta1", 0.9, "first-moment decay"),
          decay_rate("beta2", 0.999, "second-moment decay"),
          positive("eps", 1e-8, "denominator epsilon"),
          real("weight_decay", weight_decay, decay_doc, 0.0)};
}

const ParamSpecs kSgd = {positive("lr", 0.01, "learning rate"),
                         real("momentum", 0.0, "momentum factor", 0.0, 1.0),
                         flag("nesterov", false, "Nesterov momentum (needs momentum > 0)"),
                         real("weight_decay", 0.0, "L2 penalty added to the gradient", 0.0)};
const ParamRules kSgdRules = {
    {{"nesterov", "momentum"}, [](const Params& p) -> std::string {
       return p.flag("nesterov") && p.real("momentum") <= 0 ? "Nesterov momentum needs momentum > 0"
                                                            : "";
     }}};

const std::string kPlainCost = "1 fwd / 1 bwd";

const bool registered =
    optimizer_registry().add({"sgd", "stochastic gradient descent with momentum, Nesterov, weight decay",
                              kSgd, base_optimizer(make_sgd), kPlainCost, kSgdRules}) &&
    optimizer_registry().add({"adam", "Adam (Kingma and Ba, ICLR 2015); L2 weight decay",
                              adam_specs(1e-4, "L2 penalty added to the gradient (as torch.optim.Adam)"),
                              base_optimizer(make_adam), kPlainCost}) &&
    optimizer_registry().add({"adamw", "AdamW (Loshchilov and Hutter, ICLR 2019); decoupled weight decay",
                              adam_specs(1e-2, "decoupled weight decay (Loshchilov and Hutter 2019)"),
                              base_optimizer(make_adamw), kPlainCost});

}  // namespace
}  // namespace gda
