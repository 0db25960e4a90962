// mSAM: K. Behdin, Q. Song, A. Gupta, S. Keerthi, A. Acharya, B. Ocejo, G. Dexter, R. Khanna,
// D. Durfee, R. Mazumder, "mSAM: Micro-Batch-Averaged Sharpness-Aware Minimization", arXiv
// 2302.09693 (2023; earlier version arXiv 2212.04343). The m-sharpness idea is from Foret et
// al., ICLR 2021. No official code was released (LinkedIn work): the paper's rule is followed.
//   Split the batch B into micro-batches B_1..B_m. For each j: g_j = ∇L_{B_j}(w),
//   e_j = rho·g_j/||g_j||,  h_j = ∇L_{B_j}(w + e_j)  (own direction, own norm);
//   w ← base_step(w, (1/m)·Σ_j h_j).
// Choices:
// - Micro-batches are contiguous in batch order and balanced (torch::tensor_split: sizes differ
//   by at most one), so the numbers are reproducible. m_eff = min(m, ⌊n/2⌋) (at least 1)
//   micro-batches, so none has fewer than 2 samples: a one-sample pass cannot go through
//   BatchNorm in training mode. When m divides n and n/m ≥ 2 this is the same split as
//   torch.arange(n).chunk(m); torch.chunk can silently give fewer than m chunks (n = 6, m = 4
//   gives 2, 2, 2), tensor_split never gives more than m.
// - The average is (1/m_eff)·Σ h_j, the paper's 1/m, not weighted by micro-batch size (equal
//   when the chunks are equal). Each L_{B_j} is the context's (weighted) mean over B_j.
// - ||g_j|| + 1e-12 (SAM's constant, sam_ascent). The micro-batches run one after another; the
//   paper's point that they can run in parallel (one per device) changes wall time, not math.
// - The returned loss is (1/m_eff)·Σ L_{B_j}(w), the objective whose gradient is averaged
//   (the batch mean when the chunks are equal).
// - Defaults: rho 0.05 (SAM's CIFAR value); m = 4. Open doubt: the paper's tables, where m is
//   tuned per task, could not be read.
// State across steps: none beyond the base optimizer.
// Cost: 2·m_eff fwd / 2·m_eff bwd, each on about n/m_eff samples: 2n forward and 2n backward
// samples per step, as SAM.
#include <torch/torch.h>

#include <algorithm>

#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

struct MsamOptions {
  double rho;
  std::int64_t m;
};

MsamOptions msam_options(const Params& p) {
  MsamOptions o;
  o.rho = p.real("rho");
  o.m = p.integer("m");
  return o;
}

class Msam : public OptimizerWith<MsamOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    const std::int64_t n = ctx.batch_size();
    const std::int64_t parts = std::max<std::int64_t>(1, std::min<std::int64_t>(o_.m, n / 2));
    const auto rows =
        torch::arange(n, torch::TensorOptions().dtype(torch::kInt64).device(ctx.inputs().device()));
    const auto micro_batches = torch::tensor_split(rows, parts);
    Tensors sum;
    torch::Tensor loss_sum;
    for (const auto& b : micro_batches) {
      auto loss = ctx.loss_and_grad(b);  // g_j at w
      {
        Perturbed at(params_, sam_ascent(gradients(params_), o_.rho));  // w + e_j
        ctx.loss_and_grad(b);                                         // h_j
      }
      torch::NoGradGuard no_grad;
      const Tensors h = gradients(params_);
      if (sum.empty()) {
        for (const auto& t : h) sum.push_back(t.clone());
        loss_sum = loss;
      } else {
        for (std::size_t i = 0; i < sum.size(); ++i) sum[i].add_(h[i]);
        loss_sum = loss_sum + loss;
      }
    }
    torch::NoGradGuard no_grad;
    const double inv = 1.0 / static_cast<double>(micro_batches.size());
    for (std::size_t i = 0; i < params_.size(); ++i) params_[i].mutable_grad() = sum[i] * inv;
    base_step();
    return loss_sum * inv;
  }
};

const bool registered = optimizer_registry().add(
    {"msam",
     "mSAM: SAM with its own ascent per micro-batch, perturbed gradients averaged (Behdin et al., "
     "arXiv 2023)",
     {positive("rho", 0.05, "radius of each micro-batch's weight perturbation"),
      integer("m", 4, "number of micro-batches (at most n/2 are used, so each has >= 2 samples)", 1)},
     variant<Msam>(msam_options),
     "2m fwd / 2m bwd, each on n/m samples (2n / 2n samples, as SAM)"});

}  // namespace
}  // namespace gda
