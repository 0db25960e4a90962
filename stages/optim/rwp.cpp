// RWP: random weight perturbation, the expected-loss ("Bayes") objective E_n L(w + n) that the
// RWP papers start from, as a cheap baseline: T. Li et al., "Efficient Generalization
// Improvement Guided by Random Weight Perturbation", arXiv 2211.11489 (2022; code
// github.com/nblt/RWP, train_rwp_parallel.py), and T. Li et al., "Revisiting Random Weight
// Perturbation for Efficiently Improving Generalization", TMLR 2024, arXiv 2404.00357 (m-RWP;
// code github.com/nblt/mARWP, train_marwp.py).
//   n ~ N(0, s²) entrywise: s = sigma ("gaussian", default) or, "filter" as the official code,
//   s = sigma·||w_r|| for row r (output filter) of a tensor of dim > 1, sigma·(||w|| + 1e-16) for a
//   1-D tensor;  d = alpha·∇L(w + n) + (1 − alpha)·∇L(w)  (alpha = 1: no clean pass);
//   w ← base_step(w, d), the noise removed first (the weights are restored exactly).
// Choices:
// - Default noise "gaussian" with sigma 0.01 and alpha 1: the simple form, one pass (1 fwd /
//   1 bwd, the base optimizer's cost); the simple form has no canonical paper default, 0.01 is
//   the scale of both codes (RWP recipe gamma 0.01; train_marwp.py's default sigma 0.01). The
//   papers' recipe is noise "filter", alpha 0.5 (RWP: run_rwp_ddp.sh gamma 0.01, alpha 0.5;
//   m-RWP: lambda 0.5).
// - Data: the codes take the clean and the noisy gradient on DIFFERENT data (RWP: one shard
//   per GPU, DDP averaging the losses weighted 2·alpha and 2·(1 − alpha); train_marwp.py: the
//   clean gradient on one batch, the noisy one on the next, one update per two batches). A step
//   here has one batch, so both use it, clean first.
// - The noise is drawn at w, from torch's generator (randn_like per tensor, in parameter
//   order), after the clean pass; w is restored exactly after the noisy pass.
// - Not implemented: m-ARWP's Fisher-adaptive std (division by √(1 + eta·F)) and the cosine-
//   increasing sigma schedule; the code's BatchNorm freeze (momentum 0) in the noisy pass.
// - The returned loss: with alpha < 1 the loss at w; with alpha = 1 no pass at w is made, so
//   the loss at w + n (what the codes log).
// State across steps: none beyond the base optimizer (a fresh draw every step).
// Cost: 1 fwd / 1 bwd (alpha = 1), 2 fwd / 2 bwd (alpha < 1).
#include <torch/torch.h>

#include "core/choice.h"
#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

/// How the weights are noised (key noise).
enum class Noise { gaussian, filter };
const Choice<Noise> kNoise{{"gaussian", Noise::gaussian}, {"filter", Noise::filter}};

struct RwpOptions {
  double sigma, alpha;
  bool filter;  ///< noise = "filter", else "gaussian"
};

RwpOptions rwp_options(const Params& p) {
  RwpOptions o;
  o.sigma = p.real("sigma");
  o.alpha = p.real("alpha");
  o.filter = kNoise.of(p, "noise") == Noise::filter;
  return o;
}

class Rwp : public OptimizerWith<RwpOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    const bool mixed = o_.alpha < 1.0;
    torch::Tensor loss;
    Tensors clean;
    if (mixed) {
      loss = ctx.loss_and_grad();  // ∇L(w)
      clean = gradients(params_);
    }
    {
      Perturbed at(params_, draw_noise());    // w + n
      auto noisy_loss = ctx.loss_and_grad();  // ∇L(w + n), left in .grad
      if (!loss.defined()) loss = noisy_loss;
    }
    if (mixed) {
      torch::NoGradGuard no_grad;
      const Tensors noisy = gradients(params_);
      for (std::size_t i = 0; i < params_.size(); ++i)
        params_[i].mutable_grad() = noisy[i] * o_.alpha + clean[i] * (1.0 - o_.alpha);
    }
    base_step();
    return loss;
  }

 private:
  Tensors draw_noise() const {
    torch::NoGradGuard no_grad;
    Tensors noise;
    for (const auto& p : params_) {
      auto z = torch::randn_like(p);
      if (!o_.filter) {
        noise.push_back(z * o_.sigma);
      } else if (p.dim() > 1) {
        const auto rows = p.detach().reshape({p.size(0), -1});
        const auto scale = rows.square().sum(1, /*keepdim=*/true).sqrt() * o_.sigma;  // [rows, 1]
        noise.push_back((z.reshape({p.size(0), -1}) * scale).reshape(p.sizes()));
      } else {
        noise.push_back(z * ((p.detach().norm().to(torch::kFloat64) + 1e-16) * o_.sigma));
      }
    }
    return noise;
  }
};

const bool registered = optimizer_registry().add(
    {"rwp",
     "RWP: gradient at randomly perturbed weights, optionally mixed with the clean gradient "
     "(Li et al., arXiv 2022 / TMLR 2024)",
     {positive("sigma", 0.01,
               "noise scale: the std (gaussian) or the std relative to each filter's norm (filter)"),
      real("alpha", 1.0, "weight of the noisy gradient; < 1 mixes in the clean one (one more pass)", 0.0,
           1.0, true),
      kNoise.spec("noise", Noise::gaussian,
           "\"gaussian\": N(0, sigma^2) per entry; \"filter\": std sigma * ||row|| per output row "
           "(official RWP/m-RWP code)")},
     variant<Rwp>(rwp_options),
     "1 fwd / 1 bwd (alpha = 1), 2 fwd / 2 bwd (alpha < 1)"});

}  // namespace
}  // namespace gda
