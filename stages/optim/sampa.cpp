// SAMPa: W. Xie, T. Pethick, V. Cevher, "SAMPa: Sharpness-aware Minimization Parallelized",
// NeurIPS 2024 (arXiv 2410.10683); official code github.com/LIONS-EPFL/SAMPa (train.py).
//   x̃_t = x_t + rho·∇f(y_t)/||∇f(y_t)||;   y_{t+1} = x_t − (the base's step fed ∇f(y_t))
//   x_{t+1} = base_step(x_t, (1 − lambda)·∇f(x̃_t) + lambda·∇f(y_{t+1}))
// The two gradients depend only on x_t and ∇f(y_t), so the paper computes them in parallel.
// Batches, as the official code: ∇f(x̃_t) is taken on the PREVIOUS batch (the one ∇f(y_t) came
// from), ∇f(y_{t+1}) on the current one. Because x̃_t is known as soon as step t − 1 has
// finished (x_t and ∇f(y_t) are), this implementation takes ∇f(x̃_t) at the end of step t − 1,
// while that step's batch is at hand, and keeps it; step t then takes ∇f(y_{t+1}). The numbers
// are the official code's; the two gradients of a step are still independent of each other.
// The first step of a stage (no ∇f(y_0) yet; the code's zero buffers) is a plain base step:
// the code's y_1 = x_0 and x̃_0 = x_0, so both gradients are ∇f(x_0) on the first batch.
// Choices:
// - y_update = "base" (default): y_{t+1} is where the base optimizer's next step would move x_t
//   if fed ∇f(y_t), computed without touching its state. The code writes this out for SGD:
//   lr·(∇f(y_t) + wd·x_t + momentum·buf), but only once a momentum buffer exists: on the first
//   step (which here needs no y at all) and with momentum 0 it uses lr·∇f(y_t) alone, so with
//   momentum 0 and wd > 0 the code's y leaves out the wd term that this y (torch's own SGD
//   step, run on a copy of its state) includes. For Adam and AdamW the same rule applies their
//   moments and bias correction (neither paper nor code says what y is for them).
//   y_update = "sgd" is the paper's literal y_{t+1} = x_t − lr·∇f(y_t).
// - ∇f(y_t) is kept as it is. The code rebuilds it on one GPU as (agg − (1 − λ)a)/(λ + 1e-15),
//   which is 0 for lambda = 0 (it then never perturbs); here lambda = 0 is the paper's SAMPa-0.
// - The loss returned is the current batch's at y_{t+1} (the loss at x_t is never computed;
//   y_{t+1} is one base step from it); on a stage's first step it is the loss at x_0.
// - Defaults rho = 0.1, lambda = 0.2 (train.py; SAMPa-0.2, the paper's recommended variant).
// State across steps: ∇f(y_t) and the kept ∇f(x̃_{t+1}) (both saved and loaded).
// Cost: 2 fwd / 2 bwd per step (the paper: 2 gradients, 1 sequential).
#include <torch/optim/serialize.h>
#include <torch/torch.h>

#include <cmath>
#include <string>
#include <stdexcept>
#include <utility>

#include "core/choice.h"
#include "core/torch_compat.h"  // the key of torch::optim state

#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

/// Gives a state entry of the base optimizer private copies of its tensors, so that a step
/// may change them in place while the caller keeps the originals.
void copy_state_tensors(torch::optim::OptimizerParamState& s) {
  if (auto* sgd = dynamic_cast<torch::optim::SGDParamState*>(&s)) {
    if (sgd->momentum_buffer().defined()) sgd->momentum_buffer(sgd->momentum_buffer().clone());
  } else if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(&s)) {
    adam->exp_avg(adam->exp_avg().clone());
    adam->exp_avg_sq(adam->exp_avg_sq().clone());
    if (adam->max_exp_avg_sq().defined()) adam->max_exp_avg_sq(adam->max_exp_avg_sq().clone());
  } else if (auto* adamw = dynamic_cast<torch::optim::AdamWParamState*>(&s)) {
    adamw->exp_avg(adamw->exp_avg().clone());
    adamw->exp_avg_sq(adamw->exp_avg_sq().clone());
    if (adamw->max_exp_avg_sq().defined()) adamw->max_exp_avg_sq(adamw->max_exp_avg_sq().clone());
  } else {
    // kRules keeps y_update = "base" to these bases
    throw std::logic_error("sampa: y_update = \"base\" over a base optimizer other than sgd, adam, adamw");
  }
}

/// How the auxiliary sequence steps (key y_update).
enum class YUpdate { base, sgd };
const Choice<YUpdate> kYUpdate{{"base", YUpdate::base}, {"sgd", YUpdate::sgd}};

struct SampaOptions {
  double rho, lambda;
  bool base_update;  ///< y_update = "base", else "sgd"
};

SampaOptions sampa_options(const Params& p) {
  SampaOptions o;
  o.rho = p.real("rho");
  o.lambda = p.real("lambda");
  o.base_update = kYUpdate.of(p, "y_update") == YUpdate::base;
  return o;
}

const ParamRules kRules = {
    {{"y_update", "base"}, [](const Params& p) -> std::string {
       const std::string& base = p.text("base");
       const bool supported = base == "sgd" || base == "adam" || base == "adamw";
       return kYUpdate.of(p, "y_update") == YUpdate::base && !supported
                  ? "y_update = \"base\" supports the base optimizers sgd, adam and adamw; use "
                    "y_update = \"sgd\" with others"
                  : "";
     }}};

class Sampa : public OptimizerWith<SampaOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    torch::Tensor loss;
    if (gy_.empty()) {
      // First step: ∇f(x̃_0) = ∇f(y_1) = ∇f(x_0) on this batch, a plain base step.
      loss = ctx.loss_and_grad();
      gy_ = gradients(params_);
    } else {
      const Tensors x = snapshot(params_);
      to_auxiliary_point();  // y_{t+1}
      loss = ctx.loss_and_grad();
      gy_ = gradients(params_);  // ∇f(y_{t+1}) on this batch, ∇f(y_t) of the next step
      restore(params_, x);
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < params_.size(); ++i)
        params_[i].mutable_grad() = (1 - o_.lambda) * perturbed_[i] + o_.lambda * gy_[i];
    }
    base_step();
    // ∇f(x̃_{t+1}) with x̃_{t+1} = x_{t+1} + rho·∇f(y_{t+1})/||∇f(y_{t+1})||, on this batch,
    // for the next step.
    {
      Perturbed at(params_, sam_ascent(gy_, o_.rho));
      ctx.loss_and_grad();
    }
    perturbed_ = snapshot(gradients(params_));  // a copy: .grad may be reset between steps
    return loss;
  }

  void save(torch::serialize::OutputArchive& archive) const override {
    Optimizer::save(archive);
    torch::optim::serialize(archive, "sampa_gy", gy_);
    torch::optim::serialize(archive, "sampa_perturbed", perturbed_);
  }

  void load(torch::serialize::InputArchive& archive) override {
    Optimizer::load(archive);
    torch::optim::serialize(archive, "sampa_gy", gy_);
    torch::optim::serialize(archive, "sampa_perturbed", perturbed_);
  }

 private:

  /// Moves the weights from x_t to y_{t+1} = x_t − step(∇f(y_t)).
  void to_auxiliary_point() {
    if (!o_.base_update) {
      add_to(params_, gy_, -base_lr());
      return;
    }
    // One step of the base optimizer fed ∇f(y_t), on private copies of its state: the
    // entries it had are put back afterwards, the ones it creates are dropped.
    auto& state = base_->state();
    using Key = std::decay_t<decltype(state)>::key_type;
    std::vector<std::pair<Key, std::unique_ptr<torch::optim::OptimizerParamState>>> kept;
    std::vector<Key> created;
    for (const auto& p : params_) {
      const Key k = optimizer_state_key(state, p);
      auto it = state.find(k);
      if (it == state.end()) {
        created.push_back(k);
        continue;
      }
      kept.emplace_back(k, it->second->clone());  // holds the original tensors
      copy_state_tensors(*it->second);
    }
    for (std::size_t i = 0; i < params_.size(); ++i) params_[i].mutable_grad() = gy_[i];
    base_->step();
    for (auto& [k, s] : kept) state[k] = std::move(s);
    for (const auto& k : created) state.erase(k);
  }

  Tensors gy_;         ///< ∇f(y_t), the gradient at the auxiliary point (empty before step 1)
  Tensors perturbed_;  ///< ∇f(x̃_t), taken at the end of the previous step
};

const bool registered = optimizer_registry().add(
    {"sampa",
     "SAMPa: SAM whose perturbation uses the gradient at an auxiliary sequence, so the two "
     "gradients are independent (Xie et al., NeurIPS 2024)",
     {positive("rho", 0.1, "radius of the weight perturbation"),
      real("lambda", 0.2, "weight of the auxiliary gradient grad f(y_{t+1}) in the update (0: SAMPa-0)",
           0.0, 1.0),
      kYUpdate.spec("y_update", YUpdate::base,
           "the auxiliary step: \"base\" = the base optimizer's next step fed grad f(y_t) "
           "(official code), \"sgd\" = lr * grad f(y_t) (the paper's formula)")},
     variant<Sampa>(sampa_options),
     "2 fwd / 2 bwd (parallel in the paper: 1 sequential)",
     kRules});

}  // namespace
}  // namespace gda
