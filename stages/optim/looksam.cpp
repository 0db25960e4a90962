// LookSAM: Y. Liu, S. Mai, X. Chen, C.-J. Hsieh, Y. You, "Towards Efficient and Scalable
// Sharpness-Aware Minimization", CVPR 2022 (arXiv 2203.02714).
//   g = ∇L(w). Every k-th step (t mod k = 0, t counted from 0): g_s = ∇L(w + rho·g/||g||),
//   g_v = g_s − (<g, g_s>/||g||²)·g  (the part of g_s orthogonal to g; = g_s − ||g_s||·cosθ·g/||g||),
//   stored; the step uses g_s. Other steps reuse it: g_s = g + alpha·(||g||/||g_v||)·g_v.
//   w ← base_step(w, g_s).
// Choices (no official code was released; two community ports exist):
// - Norms, inner products and the projection are over all parameters together, as in the
//   paper's Algorithm 1 (Leminhbinh0209/LookSAM does the same; rollovd/LookSAM projects and
//   rescales per tensor, which gives different numbers).
// - Step 0 is a SAM step (t mod k == 0 from t = 0), so g_v exists before any reuse step.
// - eps: 1e-12 in the radius (sam_ascent), in ||g||² of the projection and in ||g_v|| of
//   the reuse ratio (the ports use 1e-12 or 1e-8 in these places; it only matters at g = 0).
// - Defaults: k = 5 and alpha = 0.7 (the paper's LookSAM-5); rho = 0.1 as both ports (the
//   paper's CIFAR rho could not be confirmed). Look-LayerSAM (layer-wise radii, LAMB) is not
//   part of this optimizer.
// State across steps: g_v and the step counter (both saved and loaded).
// Cost: 2 fwd / 2 bwd on a SAM step, 1 / 1 on a reuse step, all on the full batch.
#include <torch/optim/serialize.h>
#include <torch/torch.h>

#include <cmath>
#include <string>

#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

struct LookSamOptions {
  double rho, alpha;
  std::int64_t k;
};

LookSamOptions looksam_options(const Params& p) {
  LookSamOptions o;
  o.rho = p.real("rho");
  o.alpha = p.real("alpha");
  o.k = p.integer("k");
  return o;
}

class LookSam : public OptimizerWith<LookSamOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    auto loss = ctx.loss_and_grad();
    const Tensors g = gradients(params_);
    if (t_ % o_.k == 0 || gv_.empty()) sam_step(ctx, g);
    else reuse_step(g);
    ++t_;
    base_step();
    return loss;
  }

  void save(torch::serialize::OutputArchive& archive) const override {
    Optimizer::save(archive);
    write_int(archive, "looksam_step", t_);
    torch::optim::serialize(archive, "looksam_gv", gv_);
  }

  void load(torch::serialize::InputArchive& archive) override {
    Optimizer::load(archive);
    t_ = read_int(archive, "looksam_step");
    torch::optim::serialize(archive, "looksam_gv", gv_);
  }

 private:

  /// g_s at w + rho·g/||g|| is left in .grad for the base step; g_v is kept.
  void sam_step(StepContext& ctx, const Tensors& g) {
    {
      Perturbed at(params_, sam_ascent(g, o_.rho));
      ctx.loss_and_grad();
    }
    gv_ = orthogonal_part(gradients(params_), g, 1e-12);
  }

  /// .grad ← g + alpha·(||g|| / ||g_v||)·g_v with the stored g_v.
  void reuse_step(const Tensors& g) {
    torch::NoGradGuard no_grad;
    const auto scale = o_.alpha * squared_norm(g).sqrt() / (squared_norm(gv_).sqrt() + 1e-12);
    for (std::size_t i = 0; i < params_.size(); ++i)
      params_[i].mutable_grad() = g[i] + scale * gv_[i];
  }

  std::int64_t t_ = 0;  ///< steps taken so far
  Tensors gv_;          ///< g_v from the last SAM step
};

const bool registered = optimizer_registry().add(
    {"looksam",
     "LookSAM: a SAM step every k steps, reusing the orthogonal part of its gradient in between "
     "(Liu et al., CVPR 2022)",
     {positive("rho", 0.1, "radius of the weight perturbation on SAM steps"),
      real("alpha", 0.7, "weight of the reused orthogonal component g_v", 0.0),
      integer("k", 5, "a SAM step every k steps (k = 1 is SAM)", 1)},
     variant<LookSam>(looksam_options),
     "2 fwd / 2 bwd every k-th step, 1 fwd / 1 bwd otherwise"});

}  // namespace
}  // namespace gda
