// F-SAM (Friendly SAM): T. Li, P. Zhou, Z. He, X. Cheng, X. Huang, "Friendly Sharpness-Aware
// Minimization", CVPR 2024 (arXiv 2403.12350); official code github.com/nblt/F-SAM (utils.py,
// class FriendlySAM; train.py; run.sh).
//   g_t = ∇L(w_t);  m = EMA of the clean batch gradients (the full-gradient estimate);
//   d_t = g_t − sigma·m;  e = rho · d_t/(||d_t|| + 1e-12);  w ← base_step(w, ∇L(w + e)).
//   ema = "code" (default, the official code): step 1: m ← g_1, d_1 = g_1 (a SAM step);
//     later: d_t = g_t − sigma·m_{t−1}, then m_t = lambda·m_{t−1} + (1 − lambda)·g_t.
//   ema = "paper" (the paper's update): m_0 = 0, m_t = lambda·m_{t−1} + (1 − lambda)·g_t first,
//     then d_t = g_t − sigma·m_t.
// Choices:
// - The code is the default: the paper's method section could not be read here (its update
//   above is from a third-party summary), and where a paper leaves a choice open the project
//   follows the reference code. The two differ in the EMA's start (g_1 vs (1 − lambda)·g_1) and
//   order (subtract then update vs update then subtract); step 1 perturbs along g_1 either way,
//   from step 2 the directions differ.
// - The EMA is of the clean gradients g_t (not the perturbed ones, not the base optimizer's
//   momentum); momentum and weight decay live in the base optimizer only.
// - ||d|| is over all parameters together, + 1e-12, as the code's _grad_norm (sam_ascent).
// - Defaults rho 0.2, sigma 1, lambda 0.6: run.sh (ResNet-18, CIFAR-100), the command the
//   authors ship and whose logs they release (train.py's argparse defaults are rho 0.1,
//   lambda 0.95; a log with lambda 0.95 is released too).
// State across steps: m, and whether it has started (both saved and loaded).
// Cost: 2 fwd / 2 bwd per step, like SAM; the EMA costs no pass.
#include <torch/optim/serialize.h>
#include <torch/torch.h>

#include <string>

#include "core/choice.h"
#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

/// Which EMA update (key ema).
enum class Ema { code, paper };
const Choice<Ema> kEma{{"code", Ema::code}, {"paper", Ema::paper}};

struct FriendlySamOptions {
  double rho, sigma, lambda;
  bool paper_ema;  ///< ema = "paper", else "code"
};

FriendlySamOptions friendly_sam_options(const Params& p) {
  FriendlySamOptions o;
  o.rho = p.real("rho");
  o.sigma = p.real("sigma");
  o.lambda = p.real("lambda");
  o.paper_ema = kEma.of(p, "ema") == Ema::paper;
  return o;
}

class FriendlySam : public OptimizerWith<FriendlySamOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    auto loss = ctx.loss_and_grad();
    {
      Perturbed at(params_, sam_ascent(direction(gradients(params_)), o_.rho));  // w + e
      ctx.loss_and_grad();  // the gradient at w + e, left in .grad
    }
    base_step();
    return loss;
  }

  void save(torch::serialize::OutputArchive& archive) const override {
    Optimizer::save(archive);
    torch::optim::serialize(archive, "friendly_sam_m", m_);
  }

  void load(torch::serialize::InputArchive& archive) override {
    Optimizer::load(archive);
    torch::optim::serialize(archive, "friendly_sam_m", m_);
  }

 private:

  /// d_t from the clean gradient g_t, updating the EMA m in the chosen order.
  Tensors direction(const Tensors& g) {
    torch::NoGradGuard no_grad;
    Tensors d;
    if (o_.paper_ema) {
      if (m_.empty())
        for (const auto& t : g) m_.push_back(torch::zeros_like(t));
      for (std::size_t i = 0; i < g.size(); ++i) {
        m_[i] = o_.lambda * m_[i] + (1 - o_.lambda) * g[i];
        d.push_back(g[i] - o_.sigma * m_[i]);
      }
    } else if (m_.empty()) {  // the code's first step: m ← g_1, no subtraction
      for (const auto& t : g) {
        m_.push_back(t.detach().clone());
        d.push_back(t);
      }
    } else {
      for (std::size_t i = 0; i < g.size(); ++i) {
        d.push_back(g[i] - o_.sigma * m_[i]);
        m_[i] = o_.lambda * m_[i] + (1 - o_.lambda) * g[i];
      }
    }
    return d;
  }

  Tensors m_;  ///< EMA of the clean gradients; empty before the first step
};

const bool registered = optimizer_registry().add(
    {"friendly_sam",
     "F-SAM: SAM perturbing along the batch gradient minus its EMA (the full-gradient part) "
     "(Li et al., CVPR 2024)",
     {positive("rho", 0.2, "radius of the weight perturbation"),
      real("sigma", 1.0, "how much of the EMA (full-gradient estimate) is removed from the gradient", 0.0),
      real("lambda", 0.6, "decay of the EMA of the clean batch gradients", 0.0, 1.0),
      kEma.spec("ema", Ema::code,
           "\"code\" = official code (m starts at g_1; subtract, then update), \"paper\" = the paper's "
           "update (m starts at 0; update, then subtract)")},
     variant<FriendlySam>(friendly_sam_options),
     "2 fwd / 2 bwd"});

}  // namespace
}  // namespace gda
