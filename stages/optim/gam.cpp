// GAM: X. Zhang, R. Xu, H. Yu, H. Zou, P. Cui, "Gradient Norm Aware Minimization Seeks
// First-Order Flatness and Improves Generalization", CVPR 2023 (arXiv 2303.03108); official code
// github.com/xxgege/GAM (gam/gam.py, main_cifar.py), which releases the accelerated GAM of the
// paper's Appendix D (Algorithm 2) and is what is implemented here:
//   g0 = ∇L(w);  g1 = ∇L(w + rho'·g0/||g0||);  h0 = g1 − g0   (finite-difference ∝ ∇||∇L||)
//   w2 = w + rho·h0/||h0||;  g2 = ∇L(w2);  g3 = ∇L(w2 + rho'·g2/||g2||)
//   h+ = alpha·g1 + (1 − alpha)·g3;  h− = beta·g0 + (1 − beta)·g2
//   h−⊥ = h− − (<h−, h+>/||h+||²)·h+;  w ← base_step(w, h+ − gamma·h−⊥)
// Four forward and four backward passes per step, all sequential, on the full batch:
// at w, w + rho'·g0/||g0||, w2 and w2 + rho'·g2/||g2||. (The paper's Algorithm 1, with
// Hessian-vector products, is not released; the README says the accelerated version performs
// comparably and scales better.)
// Choices:
// - h−: the paper's Algorithm 2 line 14 writes beta·g0 + (1 − beta)·g2, which is taken. The code
//   computes h− = g0 + |1 − beta_code|·g2 (g_0 + |grad_beta_2|·g_2 with grad_beta_2 =
//   1 − grad_beta_0), i.e. (2 − beta_code) times the paper's h− with beta = 1/(2 − beta_code).
//   Only h−⊥ enters the step, scaled by gamma, so the code's run (beta_code, gamma_code) is
//   exactly the paper's rule with beta = 1/(2 − beta_code), gamma = gamma_code·(2 − beta_code).
// - Defaults reproduce the code's default run (main_cifar.py: CIFAR-100, ResNet-18): rho
//   (grad_norm_rho) 0.2, rho' (grad_rho) 0.02, alpha (grad_beta_1) 0.6, beta_code
//   (grad_beta_0) 0.5 and gamma_code (grad_gamma) 0.03, so beta = 2/3 and gamma = 0.045 here.
//   (CIFAR-10 ResNet: 0.2, 0.03, alpha 0.1, beta_code 0.1, gamma_code 0.05.) The code schedules
//   rho and rho' proportionally to the lr with equal max and min values, i.e. constant.
// - The projection and the radii: as the code up to its 1e-12 epsilons (sam_ascent keeps 1e-12 in
//   the radii; the projection has none, and a zero h+ gives h−⊥ = h−).
// - adaptive (the code's flag, default off): e = r·w²⊙v/||w⊙v|| for each of the three moves
//   (v = g0, h0, g2; w the weights where the move starts), i.e. adaptive_ascent with eta = 0 on
//   every tensor.
// - The code freezes BatchNorm running statistics after the first pass; like gda's sam, this
//   optimizer leaves the model's mode alone.
// No state across steps beyond the base optimizer. Cost: 4 fwd / 4 bwd.
#include <torch/torch.h>

#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

struct GamOptions {
  double rho, rho_prime, alpha, beta, gamma;
  bool adaptive;
};

GamOptions gam_options(const Params& p) {
  GamOptions o;
  o.rho = p.real("rho");
  o.rho_prime = p.real("rho_prime");
  o.alpha = p.real("alpha");
  o.beta = p.real("beta");
  o.gamma = p.real("gamma");
  o.adaptive = p.flag("adaptive");
  return o;
}

class Gam : public OptimizerWith<GamOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    auto loss = ctx.loss_and_grad();
    const Tensors g0 = gradients(params_);
    Tensors g1, g2, g3;
    {
      Perturbed at(params_, ascent(g0, o_.rho_prime));  // w + rho'·g0/||g0||
      ctx.loss_and_grad();
      g1 = gradients(params_);
    }
    Tensors h0;
    {
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < g0.size(); ++i) h0.push_back(g1[i] - g0[i]);
    }
    {
      Perturbed at_w2(params_, ascent(h0, o_.rho));  // w2 = w + rho·h0/||h0||
      ctx.loss_and_grad();
      g2 = gradients(params_);
      Perturbed at_w3(params_, ascent(g2, o_.rho_prime));  // w2 + rho'·g2/||g2||
      ctx.loss_and_grad();
      g3 = gradients(params_);
    }  // at_w3 restores w2, then at_w2 restores w
    {
      torch::NoGradGuard no_grad;
      Tensors hp, hm;
      for (std::size_t i = 0; i < params_.size(); ++i) {
        hp.push_back(o_.alpha * g1[i] + (1 - o_.alpha) * g3[i]);
        hm.push_back(o_.beta * g0[i] + (1 - o_.beta) * g2[i]);
      }
      const Tensors hm_perp = orthogonal_part(hm, hp);
      for (std::size_t i = 0; i < params_.size(); ++i)
        params_[i].mutable_grad() = hp[i] - o_.gamma * hm_perp[i];
    }
    base_step();
    return loss;
  }

 private:
  /// The move of radius r along v from the current weights (SAM's, or the adaptive one).
  Tensors ascent(const Tensors& v, double r) const {
    return o_.adaptive ? adaptive_ascent(params_, v, r, 0.0) : sam_ascent(v, r);
  }
};

const bool registered = optimizer_registry().add(
    {"gam",
     "GAM, gradient norm aware minimization (accelerated, Algorithm 2): first-order flatness "
     "(Zhang et al., CVPR 2023)",
     {positive("rho", 0.2, "radius of the gradient-norm ascent w + rho * h0 / ||h0|| (grad_norm_rho)"),
      positive("rho_prime", 0.02, "radius of the SAM-style finite-difference moves (grad_rho)"),
      real("alpha", 0.6, "h+ = alpha * g1 + (1 - alpha) * g3 (grad_beta_1)", 0.0, 1.0),
      real("beta", 2.0 / 3.0,
           "h- = beta * g0 + (1 - beta) * g2 (paper); 2/3 = the code's grad_beta_0 0.5", 0.0, 1.0),
      real("gamma", 0.045,
           "weight of h-'s part orthogonal to h+; 0.045 = the code's grad_gamma 0.03", 0.0),
      flag("adaptive", false, "ASAM neighbourhood of the official code: e = r * w^2 v / ||w v||")},
     variant<Gam>(gam_options),
     "4 fwd / 4 bwd"});

}  // namespace
}  // namespace gda
