// ESAM: J. Du, H. Yan, J. Feng, J. T. Zhou, L. Zhen, R. S. M. Goh, V. Y. F. Tan, "Efficient
// Sharpness-aware Minimization for Improved Training of Neural Networks", ICLR 2022 (arXiv
// 2110.03141); official code github.com/dydjw9/Efficient_SAM (utils/Esam.py, run.sh).
//   g = ∇L_B(w), with 0 on the tensors frozen by the previous step's draw (SWP);
//   e = (rho/beta)·g/(||g|| + 1e-7);  s_i = l_i(w + e) − l_i(w)  (per sample, forward only);
//   B+ = the samples of largest s_i, a fraction gamma of B (SDS);  w ← base_step(w, ∇L_{B+}(w + e));
//   afterwards each parameter tensor is frozen for the next step with probability 1 − beta.
// Choices (paper vs code; the code is followed where they differ, as its runs produced the
// paper's numbers; the reading aid ../shared/optimizers/esam.md lists the same):
// - SWP granularity and timing: the paper draws a Bernoulli(beta) mask per weight for the
//   current step; the code draws one uniform number per parameter tensor after the update
//   and switches that tensor's gradient off for the NEXT step's first backward (u > beta).
//   Here as the code: step 1 perturbs every tensor. Frozen tensors get gradient 0, so ||g|| is
//   the norm of the unfrozen part (the code's norm skips them too), and e = 0 on them.
//   Frozen tensors take part in the second pass (the code sets requires_grad back to true in
//   first_step), so the update gradient covers every tensor. The code's saving (no gradient
//   for frozen tensors in the first backward) does not show in pass counts; here the first
//   backward computes all gradients and the frozen ones are zeroed. Draws come from torch's
//   generator (torch::rand, one per tensor in parameter order), not Python's random.
// - 1/beta scaling of e and 1e-7 in the norm, as the code.
// - SDS cut: with gamma ≥ 0.99 the whole batch (code); else k = ⌊gamma·n⌋ and c = the k-th
//   largest s_i. selection = "code" (default) keeps s_i > c strictly, as Esam.py, i.e. k − 1
//   samples when there are no ties; "topk" keeps the k largest, the paper's |B+| = gamma·|B|
//   (the FSAM authors' copy of ESAM uses ≥).
// - Guard (not in the code, which crashes or returns NaN there): B+ never has fewer than
//   min(2, n) samples; if the cut leaves fewer (k ≤ 1, or ties such as every tensor frozen,
//   s = 0), the min(2, n) samples of largest s_i are kept. A one-sample pass cannot go through
//   BatchNorm in training mode (the trainer skips batches under 2 samples for that reason).
// - The sharpness forward at w + e is always spent, also with gamma ≥ 0.99 (as the code).
// - s_i from unweighted per-sample losses (the paper has no sample weights); the second pass
//   uses the context's loss over B+ (its weighted mean where the batch has weights).
// - The code's `adaptive` (ASAM-like) switch is off in all its runs and is not offered.
// - Defaults: rho 0.05, beta 0.6, gamma 0.5 (run.sh, ResNet-18 on CIFAR; the WRN runs use
//   rho 0.1, beta 0.5).
// State across steps: which tensors are frozen (saved and loaded).
// Cost: 3 fwd / 2 bwd; forward samples 2n + |B+|, backward samples n + |B+|.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/choice.h"
#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

/// How SDS cuts the batch (key selection).
enum class Selection { code, topk };
const Choice<Selection> kSelection{{"code", Selection::code}, {"topk", Selection::topk}};

struct EsamOptions {
  double rho, beta, gamma;
  bool strict;  ///< selection = "code": sharpness strictly above the k-th largest
};

EsamOptions esam_options(const Params& p) {
  EsamOptions o;
  o.rho = p.real("rho");
  o.beta = p.real("beta");
  o.gamma = p.real("gamma");
  o.strict = kSelection.of(p, "selection") == Selection::code;
  return o;
}

class Esam : public OptimizerWith<EsamOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    torch::Tensor before;  // l_i(w), from the same forward as the gradient
    auto loss = ctx.loss_and_grad(torch::Tensor(), before);
    {
      Perturbed at(params_, ascent());  // w + e
      const auto sharpness = ctx.sample_losses() - before;
      ctx.loss_and_grad(sharpest(sharpness));  // ∇L_{B+}(w + e), left in .grad
    }
    draw_frozen();
    base_step();
    return loss;
  }

  void save(torch::serialize::OutputArchive& archive) const override {
    Optimizer::save(archive);
    archive.write("esam_frozen", torch::tensor(std::vector<std::int64_t>(frozen_.begin(), frozen_.end())));
  }

  void load(torch::serialize::InputArchive& archive) override {
    Optimizer::load(archive);
    torch::Tensor flags;
    archive.read("esam_frozen", flags);
    TORCH_CHECK(flags.numel() == static_cast<std::int64_t>(params_.size()), "esam: saved state is for ",
                flags.numel(), " parameter tensors, not ", params_.size());
    flags = flags.to(torch::kCPU).contiguous();
    const auto* f = flags.data_ptr<std::int64_t>();
    frozen_.assign(f, f + flags.numel());
  }

 private:
  /// e = (rho/beta)·g/(||g|| + 1e-7) with g = 0 on frozen tensors.
  Tensors ascent() const {
    torch::NoGradGuard no_grad;
    Tensors g = gradients(params_);
    for (std::size_t i = 0; i < g.size(); ++i)
      if (frozen_[i]) g[i] = torch::zeros_like(g[i]);
    const auto scale = o_.rho / o_.beta / (squared_norm(g).sqrt() + 1e-7);
    Tensors e;
    for (const auto& t : g) e.push_back(t * scale);
    return e;
  }

  /// B+ as sorted row indices, or undefined (the whole batch) when gamma ≥ 0.99.
  torch::Tensor sharpest(const torch::Tensor& sharpness) const {
    if (o_.gamma >= 0.99) return {};
    const std::int64_t n = sharpness.size(0);
    const std::int64_t least = std::min<std::int64_t>(2, n);
    // Python's int(n * gamma), as the code
    const auto k = static_cast<std::int64_t>(static_cast<double>(n) * o_.gamma);
    torch::Tensor kept;
    if (k >= 1) {
      auto top = torch::topk(sharpness, k);
      if (o_.strict) {
        const auto cutoff = std::get<0>(top)[k - 1];
        kept = torch::nonzero(sharpness > cutoff).reshape({-1});
      } else {
        kept = std::get<1>(top);
      }
    }
    if (!kept.defined() || kept.size(0) < least) kept = std::get<1>(torch::topk(sharpness, least));
    return std::get<0>(torch::sort(kept));
  }

  /// One uniform draw per tensor: frozen at the next step when u > beta (u ∈ [0, 1)).
  void draw_frozen() {
    for (std::size_t i = 0; i < frozen_.size(); ++i)
      frozen_[i] = torch::rand({1}, torch::kFloat64).item<double>() > o_.beta;
  }

  std::vector<bool> frozen_ = std::vector<bool>(params_.size(), false);  ///< per parameter tensor: no
                                                                         ///< perturbation at the next step
};

const bool registered = optimizer_registry().add(
    {"esam",
     "ESAM: SAM with stochastic weight perturbation and sharpness-sensitive data selection "
     "(Du et al., ICLR 2022)",
     {positive("rho", 0.05, "radius of the weight perturbation (the step uses rho/beta)"),
      real("beta", 0.6,
           "SWP: probability that a parameter tensor is perturbed; drawn per tensor after each step "
           "for the next one",
           0.0, 1.0, true),
      real("gamma", 0.5, "SDS: fraction of the batch kept for the second pass (>= 0.99: all)", 0.0, 1.0,
           true),
      kSelection.spec("selection", Selection::code,
           "SDS cut: \"code\" keeps sharpness > the k-th largest (k - 1 samples, official code), "
           "\"topk\" keeps the k = int(gamma * n) largest (the paper)")},
     variant<Esam>(esam_options),
     "3 fwd / 2 bwd (the 2nd bwd on a gamma fraction of the batch)"});

}  // namespace
}  // namespace gda
