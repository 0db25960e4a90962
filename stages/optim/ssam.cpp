// SSAM (Sparse SAM): P. Mi, L. Shen, T. Ren, Y. Zhou, X. Sun, R. Ji, D. Tao, "Make Sharpness-Aware
// Minimization Stronger: A Sparsified Perturbation Approach", NeurIPS 2022 (arXiv 2210.05177);
// official code github.com/Mi-Peng/Sparse-Sharpness-Aware-Minimization (solver/sam.py: SSAMF,
// SSAMD; configs/defaulf_cfg.py; utils/engine.py).
//   g = ∇L(w);  e = rho · g/(||g|| + 1e-7) ⊙ m  (||g|| over ALL entries, unmasked);
//   w ← base_step(w, ∇L(w + e)).   The binary mask m keeps ⌊N(1 − sparsity)⌋ of the N entries:
//   mask = "fisher" (SSAM-F): m starts all 0; after the step, on update steps, m = top entries of
//     F = Σ_i (∇l_i)² over n_F = min(num_samples, batch) single-sample gradients at the new w.
//   mask = "dynamic" (SSAM-D): m starts as the top N − ⌈N·s⌉ of uniform random scores; on update
//     steps, between the two passes, with dr = drop_rate·(1 + cos(π·t/t_end))/2, the survivors
//     are the top ⌊L(1 − dr)⌋ of (score + 1e-7)·m and ⌊min(L·dr, N·s)⌋ entries grow back from
//     the top of (score' + 1e-7)·(1 − m) (L = N − N·s); the new mask applies from the next step.
// An update step is one with t mod update_freq = 0, t counting steps from 0.
// Choices:
// - Steps, not epochs: the code updates the mask at the first batch of every update_freq-th
//   epoch and runs SSAM-D's cosine over epochs (T_end = the run's epochs); an optimizer here
//   sees steps only, so update_freq and t_end count steps. Default update_freq = 5 steps: about
//   one epoch of a self-training stage of the reference experiment (630 kept samples, batch 128),
//   the README's once-per-epoch cadence. Default t_end = 25 = that stage's 5 epochs, so the drop
//   rate decays to 0 over a stage as the code's does over its run; for t ≥ t_end it stays 0.
// - SSAM-F's Fisher samples are the first n_F samples of the current (shuffled) batch; the
//   code draws them from a shuffled loader over the training set, which no step here can see.
//   Each per-sample gradient is clean (the code forgets to zero the leftover SAM gradient before
//   the first one), and the passes run in eval mode (BatchNorm on running statistics, no
//   dropout): a BatchNorm1d layer cannot normalise a batch of one in training mode, and the
//   code's ResNets, which can, also move their running statistics on every such pass. A sample
//   of loss weight 0 adds nothing.
// - SSAM-D "weight" scores are |w| at the perturbed weights and "gradient" scores |g| of the clean
//   gradient, where the code takes them; the new mask is the union of survivors and grown entries
//   (the code adds the two and asserts the sum is at most 1; in the rare tie where both pick one
//   entry it would exceed 1, here it stays 1).
// - Counts are the code's floors and ceilings (int(), math.ceil) of the same products.
// - The mask covers every parameter (biases and BatchNorm included), as the code.
// - Defaults: rho 0.1, sparsity 0.5, num_samples 16 (the README's ResNet-18/CIFAR-10 SSAM-F
//   command); drop_rate 0.5, drop_strategy "gradient", growth_strategy "random" (defaulf_cfg.py).
// State across steps: the mask and the step counter (both saved and loaded).
// Cost: 2 fwd / 2 bwd per step; SSAM-F adds n_F single-sample fwd/bwd on update steps.
#include <torch/optim/serialize.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/choice.h"
#include "stages/models/model.h"
#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"
#include "stages/optim/weight_mask.h"

namespace gda {
namespace {

/// SSAM-F or SSAM-D (key mask).
enum class Mask { fisher, dynamic };
const Choice<Mask> kMask{{"fisher", Mask::fisher}, {"dynamic", Mask::dynamic}};
/// What SSAM-D's drop and growth rank entries by.
enum class Score { weight, gradient, random };
const Choice<Score> kScore{{"weight", Score::weight}, {"gradient", Score::gradient}, {"random", Score::random}};

const ParamSpecs kKeys = {
    positive("rho", 0.1, "radius of the weight perturbation (before masking)"),
    real("sparsity", 0.5, "fraction of the entries left unperturbed", 0.0, 1.0),
    kMask.spec("mask", Mask::fisher, "\"fisher\" = SSAM-F (Fisher-information mask), \"dynamic\" = SSAM-D"),
    integer("update_freq", 5, "update the mask every update_freq steps (from step 0)", 1),
    integer("num_samples", 16,
            "SSAM-F: single-sample gradients (the first of the batch, at most its size) in the Fisher", 1),
    real("drop_rate", 0.5, "SSAM-D: initial fraction of live entries dropped per update (cosine to 0)",
         0.0, 1.0),
    kScore.spec("drop_strategy", Score::gradient, "SSAM-D: which live entries survive (largest score)"),
    kScore.spec("growth_strategy", Score::random, "SSAM-D: which dead entries grow back (largest score)"),
    integer("t_end", 25, "SSAM-D: step at which the drop rate has decayed to 0", 1)};

struct SsamOptions {
  double rho, sparsity;
  std::int64_t update_freq;
  bool fisher;               ///< SSAM-F, else SSAM-D
  std::int64_t num_samples;  ///< SSAM-F
  double drop_rate;          ///< SSAM-D
  Score drop, growth;        ///< SSAM-D
  std::int64_t t_end;        ///< SSAM-D
};

SsamOptions ssam_options(const Params& p) {
  SsamOptions o;
  o.rho = p.real("rho");
  o.sparsity = p.real("sparsity");
  o.update_freq = p.integer("update_freq");
  o.fisher = kMask.of(p, "mask") == Mask::fisher;
  o.num_samples = p.integer("num_samples");
  o.drop_rate = p.real("drop_rate");
  o.drop = kScore.of(p, "drop_strategy");
  o.growth = kScore.of(p, "growth_strategy");
  o.t_end = p.integer("t_end");
  return o;
}

class Ssam : public OptimizerWith<SsamOptions> {
 public:
  Ssam(Tensors w, BaseOptimizer base, SsamOptions o) : OptimizerWith(std::move(w), std::move(base), o) {
    torch::NoGradGuard no_grad;
    for (const auto& p : params_) numel_ += p.numel();
    if (o_.fisher) {
      for (const auto& p : params_) mask_.push_back(torch::zeros_like(p));
    } else {
      // the top N − ceil(N·s) of uniform random scores
      Tensors draws;
      for (const auto& p : params_) draws.push_back(torch::rand_like(p));
      const auto live = numel_ - static_cast<std::int64_t>(std::ceil(double(numel_) * o_.sparsity));
      set_mask(top_entries(flatten(draws), live));
    }
  }

  torch::Tensor step(StepContext& ctx) override {
    auto loss = ctx.loss_and_grad();
    const Tensors g = gradients(params_);
    const bool update = t_ % o_.update_freq == 0;
    {
      Perturbed at(params_, masked_ascent(g, mask_, o_.rho));  // w + e
      if (update && !o_.fisher) update_dynamic_mask(g);  // scores at w + e; used from the next step
      ctx.loss_and_grad();  // the gradient at w + e, left in .grad
    }
    base_step();
    if (update && o_.fisher) update_fisher_mask(ctx);  // at the new weights
    ++t_;
    return loss;
  }

  void save(torch::serialize::OutputArchive& archive) const override {
    Optimizer::save(archive);
    write_int(archive, "ssam_step", t_);
    torch::optim::serialize(archive, "ssam_mask", mask_);
  }

  void load(torch::serialize::InputArchive& archive) override {
    Optimizer::load(archive);
    t_ = read_int(archive, "ssam_step");
    torch::optim::serialize(archive, "ssam_mask", mask_);
  }

 private:

  /// Splits a flat 0/1 vector into the per-parameter mask.
  void set_mask(const torch::Tensor& flat) { mask_ = unflatten(flat, params_); }

  Tensors scores(Score kind, const Tensors& g) const {
    Tensors s;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (kind == Score::weight) s.push_back(params_[i].detach().abs());
      else if (kind == Score::gradient) s.push_back(g[i].abs());
      else s.push_back(torch::rand_like(params_[i]));
    }
    return s;
  }

  /// SSAM-D: drop the weakest live entries, grow as many (at most N·s) among the dead ones.
  void update_dynamic_mask(const Tensors& g) {
    torch::NoGradGuard no_grad;
    const double n = double(numel_);
    const double pos = double(std::min(t_, o_.t_end)) / double(o_.t_end);
    const double dr = o_.drop_rate * (1 + std::cos(std::acos(-1.0) * pos)) / 2;
    const double live = n - n * o_.sparsity;
    const auto mask = flatten(mask_);
    const auto survivors =
        top_entries((flatten(scores(o_.drop, g)) + 1e-7) * mask, static_cast<std::int64_t>(live * (1 - dr)));
    const auto grown = top_entries((flatten(scores(o_.growth, g)) + 1e-7) * (1 - mask),
                           static_cast<std::int64_t>(std::min(live * dr, n * o_.sparsity)));
    set_mask((survivors + grown).clamp_max(1.0));
  }

  /// SSAM-F: F = Σ_i (∇l_i)² over the first n_F samples, one single-sample pass each (eval
  /// mode); the mask keeps the top int(N·(1 − s)). .grad is left as the step used it.
  void update_fisher_mask(StepContext& ctx) {
    const Tensors used = gradients(params_);
    const Tensors fisher = empirical_fisher(ctx, params_, o_.num_samples);
    torch::NoGradGuard no_grad;
    const auto keep = static_cast<std::int64_t>(double(numel_) * (1 - o_.sparsity));
    set_mask(top_entries(flatten(fisher), keep));
    for (std::size_t j = 0; j < params_.size(); ++j) params_[j].mutable_grad() = used[j];
  }

  std::int64_t numel_ = 0;  ///< N, entries over all parameters
  std::int64_t t_ = 0;      ///< steps taken so far
  Tensors mask_;            ///< one 0/1 tensor per parameter
};

const bool registered = optimizer_registry().add(
    {"ssam",
     "Sparse SAM: SAM perturbing a Fisher (SSAM-F) or dynamic (SSAM-D) sparse mask of the weights "
     "(Mi et al., NeurIPS 2022)",
     kKeys,
     variant<Ssam>(ssam_options),
     "2 fwd / 2 bwd (SSAM-F: + min(num_samples, batch) single-sample fwd/bwd every update_freq-th step)"});

}  // namespace
}  // namespace gda
