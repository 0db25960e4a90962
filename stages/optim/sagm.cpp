// SAGM: P. Wang, Z. Zhang, Z. Lei, L. Zhang, "Sharpness-Aware Gradient Matching for Domain
// Generalization", CVPR 2023 (arXiv 2303.10353); official code github.com/Wang-pengfei/SAGM
// (domainbed/sagm/sagm.py; algorithms.py SAGM_DG; hparams_registry.py).
//   g = ∇L(w);  e = rho·g/||g|| − alpha·g;  g_p = ∇L(w + e)
//   w ← base_step(w, (g + g_p)/2)
// The paper's objective minimises the empirical loss L(w), the perturbed loss L_p(w) (the worst
// loss in the rho-ball) and the gap between them, implicitly aligning ∇L and ∇L_p (abstract,
// README). The code evaluates the perturbed gradient one small descent step ahead, at
// w − alpha·g + rho·g/||g||: the gradient of L(w) + L_p(w − alpha·∇L(w)) with the Hessian term
// dropped, whose first-order expansion L_p(w) − alpha·<∇L_p, ∇L> rewards the alignment (our
// reading of the code; the paper's full text could not be read here).
// Choices:
// - The update is the official code's (perturb_weights, gradient_decompose): the base step gets
//   g_p + 0.5·g − 0.5·g_p = (g + g_p)/2, the average. Were the paper to write the sum g + g_p,
//   the two would differ by a factor 2 in the gradient (SGD's lr; Adam is invariant to it up to
//   eps and L2 weight decay).
// - The code's scale rho/(||g|| + 1e-12) − alpha multiplies g; here sam_ascent (1e-12) minus
//   alpha·g, the same vector.
// - rho: SAGM_DG fixes rho = 0.05 with a constant schedule (LinearScheduler with max = min);
//   the lr is constant there too. alpha = 0.001: hparams_registry.py's default and the paper's
//   PACS / VLCS / TerraIncognita value (OfficeHome and DomainNet use 5e-4; the README's table).
// - adaptive (the code's flag, off in SAGM_DG): the code multiplies the whole perturbation by w²
//   and takes the norm of |w|⊙g: e = rho·w²⊙g/||w⊙g|| − alpha·w²⊙g, i.e. adaptive_ascent with
//   eta = 0 on every tensor, minus alpha·w²⊙g.
// - The code freezes BatchNorm running statistics on the second pass; like gda's sam, this
//   optimizer leaves the model's mode alone.
// No state across steps beyond the base optimizer. Cost: 2 fwd / 2 bwd, as SAM.
#include <torch/torch.h>

#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

struct SagmOptions {
  double rho, alpha;
  bool adaptive;
};

SagmOptions sagm_options(const Params& p) {
  SagmOptions o;
  o.rho = p.real("rho");
  o.alpha = p.real("alpha");
  o.adaptive = p.flag("adaptive");
  return o;
}

class Sagm : public OptimizerWith<SagmOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    auto loss = ctx.loss_and_grad();
    const Tensors g = gradients(params_);
    Tensors e = o_.adaptive ? adaptive_ascent(params_, g, o_.rho, 0.0) : sam_ascent(g, o_.rho);
    {
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < e.size(); ++i)
        e[i] = e[i] - o_.alpha * (o_.adaptive ? params_[i].detach().square() * g[i] : g[i]);
    }
    {
      Perturbed at(params_, e);  // w + rho·g/||g|| − alpha·g
      ctx.loss_and_grad();
    }
    const Tensors gp = gradients(params_);
    {
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < params_.size(); ++i)
        params_[i].mutable_grad() = 0.5 * (g[i] + gp[i]);
    }
    base_step();
    return loss;
  }
};

const bool registered = optimizer_registry().add(
    {"sagm",
     "SAGM, sharpness-aware gradient matching: the average of the clean gradient and the gradient "
     "at w + rho g/||g|| - alpha g (Wang et al., CVPR 2023)",
     {positive("rho", 0.05, "radius of the SAM perturbation"),
      real("alpha", 0.001, "the descent step -alpha * g taken before the perturbed gradient", 0.0),
      flag("adaptive", false,
           "ASAM neighbourhood of the official code: e = rho * w^2 g / ||w g|| - alpha * w^2 g")},
     variant<Sagm>(sagm_options),
     "2 fwd / 2 bwd"});

}  // namespace
}  // namespace gda
