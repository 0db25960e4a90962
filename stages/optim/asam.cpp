// ASAM: J. Kwon, J. Kim, H. Park, I. K. Choi, "ASAM: Adaptive Sharpness-Aware Minimization for
// Scale-Invariant Learning of Deep Neural Networks", ICML 2021 (arXiv 2102.11600); official code
// github.com/SamsungLabs/ASAM (asam.py, example_cifar.py).
//   T_w = |w| + eta elementwise on weight tensors, 1 on the others (biases);
//   e = rho · T_w² g / ||T_w g||   (the maximiser of g·e over ||T_w⁻¹ e|| ≤ rho, p = 2)
//   w ← base_step(w, ∇L(w + e))
// The perturbation is neighbourhood.h's adaptive_ascent, which follows asam.py.
// Choices:
// - Which tensors are scaled: asam.py scales a parameter when its name contains "weight"
//   (weight_tensors: conv and linear weights, also BatchNorm's weight) and uses T = 1 for the
//   rest (biases). The paper writes T_w for all parameters and says nothing about biases; the
//   code's rule is taken. The names come from the step context's model at every step.
// - Norm epsilon 1e-16 as asam.py (||T g|| + 1e-16).
// - Defaults: rho = 0.5, the ASAM class default and the README's CIFAR-10 command (the
//   paper's CIFAR-10 SGD value; CIFAR-100 uses 1.0); eta = 0.01, the ASAM class default.
//   example_cifar.py's argparse default is --eta 0.0, which never perturbs a weight that is
//   exactly 0; the class default is kept.
// No state across steps beyond the base optimizer. Cost: 2 fwd / 2 bwd, as SAM.
#include <torch/torch.h>

#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

struct AsamOptions {
  double rho, eta;
};

AsamOptions asam_options(const Params& p) {
  AsamOptions o;
  o.rho = p.real("rho");
  o.eta = p.real("eta");
  return o;
}

class Asam : public OptimizerWith<AsamOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    auto loss = ctx.loss_and_grad();
    const std::vector<bool> scaled = weight_tensors(ctx.model());
    TORCH_CHECK(scaled.size() == params_.size(),
                "asam: the optimizer's parameters must be the step context's model's parameters");
    {
      Perturbed at(params_, adaptive_ascent(params_, gradients(params_), o_.rho, o_.eta, scaled));
      ctx.loss_and_grad();  // the gradient at w + e, left in .grad
    }
    base_step();
    return loss;
  }
};

const bool registered = optimizer_registry().add(
    {"asam",
     "ASAM, adaptive SAM: a scale-invariant neighbourhood |w| + eta (Kwon et al., ICML 2021)",
     {positive("rho", 0.5, "radius of the adaptive neighbourhood ||T_w^-1 e|| <= rho"),
      real("eta", 0.01, "offset of the normalisation T_w = |w| + eta on weight tensors", 0.0)},
     variant<Asam>(asam_options),
     "2 fwd / 2 bwd"});

}  // namespace
}  // namespace gda
