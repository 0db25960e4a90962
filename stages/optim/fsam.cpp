// FSAM (Fisher-mask SAM): Q. Zhong, L. Ding, L. Shen, P. Mi, J. Liu, B. Du, D. Tao, "Improving
// Sharpness-Aware Minimization with Fisher Mask for Better Generalization on Language Models",
// Findings of EMNLP 2022 (arXiv 2210.05497); official code github.com/WHU-ZQH/FSAM4PLM
// (fairseq-FSAM/optim/samsgd.py, class SAM_Mask; trainer.py).
//   g = ∇L(w). Every mask_interval-th step (t mod mask_interval = 0, t from 0): F = g² and the
//   mask m keeps the top ⌊keep_ratio·N⌋ entries of F, ranked over all maskable tensors together.
//   e = rho · g/(||g|| + 1e-7) ⊙ m  (||g|| over ALL parameters; unmaskable tensors have m = 1);
//   w ← base_step(w, ∇L(w + e)).
// Choices:
// - Maskable tensors, as the code: every parameter except those whose name contains "bias" or
//   "embed" and those of BatchNorm layers (the code removes BatchNorm1d/2d; 3d too here).
//   Unmaskable tensors are always perturbed in full; e is not rescaled after masking.
// - The mask is built before the perturbation, from the current batch (the code calls
//   set_fisher_mask before the optimizer step, on num_updates % mask_iter_e == 0).
// - fisher = "batch" (default): F = square of the mini-batch mean gradient, as the code (no extra
//   pass). fisher = "per_sample": the paper's empirical Fisher, F = Σ_i (∇l_i)² over the samples
//   of the batch, one single-sample forward/backward each on mask steps. Those passes run with
//   the model in eval mode (BatchNorm on running statistics, no dropout): a BatchNorm1d layer
//   cannot normalise a batch of one in training mode. A sample of loss weight 0 adds nothing.
// - Bugs of the released code not reproduced: after building the mask it calls zero_grad() and
//   then perturbs with the zeroed gradient (e = 0 on every mask step), and SAM_Mask.first_step
//   never stores the weights that second_step restores. Here mask steps perturb with g, and the
//   weights go back exactly to w.
// - ||g|| + 1e-7 as the code's SAM_Mask.first_step.
// - Defaults: rho = 0.05 (README, scripts), keep_ratio = 0.1 (the code's default: 90 % of the
//   maskable entries unperturbed), mask_interval = 100 (the scripts' --mask-iter-e 100; the
//   dataclass default is 1). The paper fine-tunes language models; no image defaults exist.
// State across steps: the mask and the step counter (both saved and loaded).
// Cost: 2 fwd / 2 bwd per step; fisher = "per_sample" adds one single-sample fwd/bwd per sample
// of the batch on mask steps.
#include <torch/optim/serialize.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "core/choice.h"
#include "stages/models/model.h"
#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"
#include "stages/optim/weight_mask.h"

namespace gda {
namespace {

/// The code's maskable tensors: no "bias" or "embed" in the name, not a BatchNorm parameter;
/// in the order of model.parameters().
std::vector<bool> maskable_tensors(const Model& model) {
  std::vector<std::string> norm_prefixes;
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    const auto& m = item.value();
    if (m->as<torch::nn::BatchNorm1d>() || m->as<torch::nn::BatchNorm2d>() ||
        m->as<torch::nn::BatchNorm3d>())
      norm_prefixes.push_back(item.key() + ".");
  }
  std::vector<bool> maskable;
  for (const auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    bool ok = name.find("bias") == std::string::npos && name.find("embed") == std::string::npos;
    for (const auto& prefix : norm_prefixes)
      if (name.compare(0, prefix.size(), prefix) == 0) ok = false;
    maskable.push_back(ok);
  }
  return maskable;
}

/// Which Fisher estimate builds the mask (key fisher).
enum class Fisher { batch, per_sample };
const Choice<Fisher> kFisher{{"batch", Fisher::batch}, {"per_sample", Fisher::per_sample}};

struct FsamOptions {
  double rho, keep_ratio;
  std::int64_t mask_interval;
  bool per_sample;  ///< fisher = "per_sample", else "batch"
};

FsamOptions fsam_options(const Params& p) {
  FsamOptions o;
  o.rho = p.real("rho");
  o.keep_ratio = p.real("keep_ratio");
  o.mask_interval = p.integer("mask_interval");
  o.per_sample = kFisher.of(p, "fisher") == Fisher::per_sample;
  return o;
}

class Fsam : public OptimizerWith<FsamOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    auto loss = ctx.loss_and_grad();
    const Tensors g = gradients(params_);
    if (t_ % o_.mask_interval == 0 || mask_.empty()) build_mask(ctx, g);
    {
      Perturbed at(params_, masked_ascent(g, mask_, o_.rho));  // w + e
      ctx.loss_and_grad();  // the gradient at w + e, left in .grad
    }
    ++t_;
    base_step();
    return loss;
  }

  void save(torch::serialize::OutputArchive& archive) const override {
    Optimizer::save(archive);
    write_int(archive, "fsam_step", t_);
    torch::optim::serialize(archive, "fsam_mask", mask_);
  }

  void load(torch::serialize::InputArchive& archive) override {
    Optimizer::load(archive);
    t_ = read_int(archive, "fsam_step");
    torch::optim::serialize(archive, "fsam_mask", mask_);
  }

 private:

  /// The mask: 1 on the top ⌊keep_ratio·N⌋ Fisher entries of the N maskable ones, 0 on the
  /// other maskable entries, 1 on every unmaskable tensor.
  void build_mask(StepContext& ctx, const Tensors& g) {
    if (maskable_.empty()) {
      maskable_ = maskable_tensors(ctx.model());
      TORCH_CHECK(maskable_.size() == params_.size(),
                  "fsam: the model's parameters are not the optimizer's");
    }
    Tensors fisher;
    if (o_.per_sample) {
      fisher = empirical_fisher(ctx, params_, ctx.batch_size());
    } else {
      torch::NoGradGuard no_grad;
      for (const auto& t : g) fisher.push_back(t.square());
    }
    torch::NoGradGuard no_grad;
    Tensors flat;
    for (std::size_t i = 0; i < params_.size(); ++i)
      if (maskable_[i]) flat.push_back(fisher[i].reshape({-1}));
    torch::Tensor chosen;
    if (!flat.empty()) {
      const auto all = torch::cat(flat);
      // Python's int(total * keep_ratio), as the code
      const auto keep = static_cast<std::int64_t>(static_cast<double>(all.numel()) * o_.keep_ratio);
      chosen = top_entries(all, keep);
    }
    mask_.clear();
    std::int64_t at = 0;
    for (std::size_t i = 0; i < params_.size(); ++i) {
      if (!maskable_[i]) {
        mask_.push_back(torch::ones_like(params_[i]));
        continue;
      }
      const auto n = params_[i].numel();
      mask_.push_back(chosen.slice(0, at, at + n).reshape(params_[i].sizes()).clone());
      at += n;
    }
  }

  std::int64_t t_ = 0;        ///< steps taken so far
  Tensors mask_;              ///< one 0/1 tensor per parameter
  std::vector<bool> maskable_;  ///< which parameters the mask may switch off
};

const bool registered = optimizer_registry().add(
    {"fsam",
     "FSAM: SAM perturbing only the top Fisher-information entries (Zhong et al., Findings of EMNLP 2022)",
     {positive("rho", 0.05, "radius of the weight perturbation"),
      real("keep_ratio", 0.1, "fraction of the maskable entries perturbed (top Fisher information)", 0.0,
           1.0, true),
      integer("mask_interval", 100, "rebuild the Fisher mask every mask_interval steps (from step 0)", 1),
      kFisher.spec("fisher", Fisher::batch,
           "Fisher estimate: \"batch\" = squared batch gradient (official code), \"per_sample\" = sum of "
           "squared per-sample gradients (the paper; one extra single-sample pass per sample on mask steps)")},
     variant<Fsam>(fsam_options),
     "2 fwd / 2 bwd (fisher = \"per_sample\": + 1 single-sample fwd/bwd per batch sample every "
     "mask_interval-th step)"});

}  // namespace
}  // namespace gda
