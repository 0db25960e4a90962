// BSAM: J. Deng, J. Pang, B. Zhang, Q. Huang, "Bilateral Sharpness-Aware Minimization for
// Flatter Minima", arXiv 2409.13173 (2024); official code github.com/ajiaaa/BSAM (bsam.py).
//   g = ∇L(w), n = ||g||;  g_max = ∇L(w + rho_max·g/n)  (max-sharpness point, as SAM);
//   g_min = ∇L(w − rho_min·g/n)  (min-sharpness point: the clean g and n, not g_max);
//   G = g_max + (g − (||g_max|| / ||g_min||)·g_min);  w ← base_step(w, G).
// Choices:
// - The update is the official code's (to_max_point, to_min_point, opt_max_min_step); only the
//   abstract and introduction of the paper could be read. The paper's min-sharpness (a minimum
//   over the neighbourhood) is approximated there, and here, by one step along −g.
// - rho_min follows the learning rate as the code's ProportionScheduler (min lr 0, min value
//   0): rho_min_t = rho_min · lr_t / lr_0, with lr_0 the base's lr when the optimizer is built
//   and lr_t read before each step. gda has no lr schedule, so this is rho_min itself.
// - The code's `adaptive` flag is overwritten with False in its __init__; no ASAM branch here.
// - The code has no epsilon in ||g_max|| / ||g_min||; here a zero ||g_min|| (g_min = 0) gives
//   ratio 0 instead of 0/0 = NaN. The radii use 1e-12 as the code (sam_ascent).
// - The code freezes BatchNorm running statistics on the second and third forward passes
//   (bypass_bn); like gda's sam, this optimizer leaves the model's mode alone.
// - Defaults rho_max = rho_min = 0.05 (train_bsam.py, CIFAR).
// No state across steps beyond the base optimizer. Cost: 3 fwd / 3 bwd, sequential.
#include <torch/torch.h>

#include <cmath>

#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

struct BsamOptions {
  double rho_max, rho_min;
};

BsamOptions bsam_options(const Params& p) {
  BsamOptions o;
  o.rho_max = p.real("rho_max");
  o.rho_min = p.real("rho_min");
  return o;
}

class Bsam : public OptimizerWith<BsamOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    auto loss = ctx.loss_and_grad();
    const Tensors g = gradients(params_);
    const double rho_min = lr0_ > 0 ? o_.rho_min * base_lr() / lr0_ : o_.rho_min;
    {
      Perturbed at(params_, sam_ascent(g, o_.rho_max));  // w + rho_max·g/||g||
      ctx.loss_and_grad();
    }
    const Tensors g_max = gradients(params_);
    {
      Perturbed at(params_, sam_ascent(g, -rho_min));  // w − rho_min·g/||g||
      ctx.loss_and_grad();
    }
    const Tensors g_min = gradients(params_);
    {
      torch::NoGradGuard no_grad;
      const auto min_norm = squared_norm(g_min).sqrt();
      const auto ratio =
          torch::where(min_norm > 0, squared_norm(g_max).sqrt() / min_norm, torch::zeros_like(min_norm));
      for (std::size_t i = 0; i < params_.size(); ++i)
        params_[i].mutable_grad() = g_max[i] + (g[i] - ratio * g_min[i]);
    }
    base_step();
    return loss;
  }

 private:
  const double lr0_ = base_lr();  ///< the base's lr at construction, the reference of the rho_min schedule
};

const bool registered = optimizer_registry().add(
    {"bsam",
     "BSAM, bilateral SAM: max- and min-sharpness points around w (Deng et al., arXiv 2024)",
     {positive("rho_max", 0.05, "radius of the max-sharpness (ascent) point, as SAM's rho"),
      real("rho_min", 0.05, "radius of the min-sharpness (descent) point; scaled by lr / initial lr",
           0.0)},
     variant<Bsam>(bsam_options),
     "3 fwd / 3 bwd"});

}  // namespace
}  // namespace gda
