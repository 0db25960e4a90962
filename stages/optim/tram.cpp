// TRAM: T. Sherborne, N. Saphra, P. Dasigi, H. Peng, "TRAM: Bridging Trust Regions and
// Sharpness Aware Minimization", ICLR 2024 (arXiv 2310.03646); official code
// github.com/tomsherborne/tram_optimizer (tram.py, kl.py, parameter_target.py, README step).
//   g = ∇L_B(θ);  d = logit_scale · KL(p_ref ‖ p_θ)  (a number: no gradient flows through d)
//   e = d · T²g / ‖T g‖ with T = |θ| (adaptive: ASAM), or e = d · g / ‖g‖ (SAM)
//   θ ← base(θ, ∇L_B(θ + e))
// p_ref by `target`: "prev" f(x; θ_{t−1}), "init" f(x; θ_0), "noise" f(x + z; θ), z ~ N(0, σ²).
// "fisher" (Algorithm 2: Fisher SAM with the Fisher at noised inputs) measures no divergence:
//   f = 1 + fisher_eta · g_z² (g_z = ∇L_B at x + z);  e = fisher_gamma · (g/f) / √(Σ g²/f).
//
// Choices (paper vs code; the reading aid ../shared/optimizers/tram.md lists the same):
// - KL: forward, reference first, Σ p_ref (log p_ref − log p_θ), in float64 (kl.py: float32),
//   0·log 0 = 0. kl_reduction "code" (default) is kl.py: F.kl_div(reduction="mean") averages
//   over B·C entries and get_divergence divides by B again, d = ΣKL / (B²·C); "batchmean" is
//   the paper's E_x[KL] = ΣKL / B. The default keeps the code's scale, with which the paper's
//   numbers were produced. No temperature, no clipping of d (the paper's d ≤ rho is optional).
// - The released first_step drops the gradient (it adds d·θ² or d to every weight, so e does
//   not point along g). That contradicts the paper's Eq. 7; the paper is followed.
// - ASAM neighbourhood as tram.py: T = |θ| on every tensor (biases too), no eta (ASAM's own
//   code: |w| + 0.01 on weights only): adaptive_ascent with eta 0 and every tensor scaled.
//   The norm's epsilon is 1e-16 (adaptive_ascent) or 1e-12 (sam_ascent; tram.py: 1e-12).
// - θ_{t−1} is refreshed with the unperturbed θ_t (weights and BatchNorm buffers) right before
//   the base step (no trainer was released; ModelEmaV2(decay=0).set copies the state dict). At a
//   stage's first step θ_{t−1} = θ_1, so d = 0: a plain base step at the cost of a TRAM step.
//   The code's EMA targets (decay in (0, 1)) are not a paper variant and are not implemented.
// - Modes: the reference weights are evaluated in eval mode (ModelEmaV2 calls .eval()): no
//   dropout, BatchNorm with the reference's own running statistics, deterministic. The
//   current model's logits on the batch are those of its training forward (its own mode, as
//   the README's training step), so no 4th forward; with dropout d > 0 even when θ_ref = θ,
//   as in the code. TRAM-x's noised forward on the batch also runs in the model's own mode
//   (as the code; in train mode it updates BatchNorm statistics, like SAM's second pass here).
// - The reference (θ_{t−1}, θ_0, the teacher) is kept as tensors (weights and buffers) and,
//   for its one forward, loaded into the model being trained, whose own weights are then put
//   back exactly (saved copies). So the pass goes through ctx.logits and is counted, and no
//   second Model object (Model::clone_model needs make_fresh) is needed; cost: three copies
//   of the weights per step, small against a forward.
// - TRAM-x noises the inputs x (the code noises word embeddings): "normal" N(0, σ²) or
//   "uniform" U(−σ, σ) as InputPerturbationTarget. σ = 0.1: the paper gives none for TRAM-x;
//   0.1 is the σ of its R3F baseline according to the reading aid (not checked in the paper).
// - fisher: the paper's Eq. 8/9 omit the 1 + η and γ and, read literally, divide by g². The
//   Fisher SAM form (Kim et al., ICML 2022) is used, with its γ = η = 0.1 (the paper's FSAM
//   baseline values). fisher_source "separate" (default) is Algorithm 2 read literally: g from
//   the clean pass, g_z from an extra noised pass with the batch's labels (3 fwd / 3 bwd);
//   "shared" takes g = g_z from one noised pass, Table 2's 2 fwd / 2 bwd, and then returns the
//   loss at x + z. `adaptive`, `logit_scale` and `kl_reduction` do not apply to fisher.
// - Not implemented: the code's L2 and MMD distances, reverse or symmetric KL.
// Gradual-path options (issue 4, not in the paper; defaults give the paper's TRAM):
// - reference = "own": θ_0 is the weights at the stage's first step (in self-training the
//   student starts as a copy of its teacher, so these are the teacher's weights). "teacher":
//   θ_0 is the stage's teacher (StageInputs::start, copied in begin_stage); in gda's pipeline
//   it equals "own", and differs only where a student does not start as the teacher's copy.
//   "source": θ_0 is the source-trained model at every adaptation stage (StageInputs::source;
//   in source training, the model it starts from): the trust region stays around the function
//   learnt with labels instead of moving along the path with the teacher. Without begin_stage
//   both fall back to the weights at the first step. Only target "init" has a θ_0: another
//   reference with "prev", "noise" or "fisher" is a UserError.
// - divergence_data = "batch": the training batch (paper). "current": B inputs drawn with
//   replacement from the unlabelled inputs of the stage's domain (StageInputs::current_x);
//   "next": from the next domain's (StageInputs::next_x), at the last stage (no next domain)
//   the current domain's. Off the batch the current model's logits cost one more forward, and
//   every forward on these inputs runs in eval mode: the student does not train on them, so
//   they must not move its BatchNorm statistics, and dropout would add noise to d. fisher with
//   divergence_data other than "batch" is a UserError (it measures no divergence, and its
//   noised gradient needs the batch's labels).
// State across steps: θ_{t−1} or θ_0 (weights and buffers; saved and loaded). The stage's
// unlabelled inputs are not state: begin_stage offers them again.
// Cost: 3 fwd / 2 bwd (+1 fwd with divergence_data "current"/"next"); fisher 3 / 3 (separate)
// or 2 / 2 (shared).
#include <torch/optim/serialize.h>
#include <torch/torch.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/choice.h"
#include "core/error.h"
#include "stages/models/model.h"
#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

enum class Target { prev, init, noise, fisher };
const Choice<Target> kTarget{
    {"prev", Target::prev}, {"init", Target::init}, {"noise", Target::noise}, {"fisher", Target::fisher}};
/// Which inputs the divergence is measured on.
enum class DivergenceData { batch, current, next };
const Choice<DivergenceData> kDivergenceData{
    {"batch", DivergenceData::batch}, {"current", DivergenceData::current}, {"next", DivergenceData::next}};
/// Where θ_0 of target init comes from.
enum class Reference { own, teacher, source };
const Choice<Reference> kReference{{"own", Reference::own}, {"teacher", Reference::teacher}, {"source", Reference::source}};
/// How the KL divergence is averaged.
enum class KlReduction { code, batchmean };
const Choice<KlReduction> kKlReduction{{"code", KlReduction::code}, {"batchmean", KlReduction::batchmean}};
/// The input noise of targets noise and fisher.
enum class NoiseType { normal, uniform };
const Choice<NoiseType> kNoiseType{{"normal", NoiseType::normal}, {"uniform", NoiseType::uniform}};
/// Where fisher's clean and noised gradients come from.
enum class FisherSource { separate, shared };
const Choice<FisherSource> kFisherSource{{"separate", FisherSource::separate}, {"shared", FisherSource::shared}};

const ParamSpecs kKeys = {kTarget.spec("target", Target::prev,
         "trust-region estimate: \"prev\" (KL against theta_{t-1}), \"init\" (against theta_0), "
         "\"noise\" (against noised inputs x + z), \"fisher\" (Algorithm 2, Fisher SAM at x + z)"),
    flag("adaptive", true,
         "ASAM neighbourhood e = d * theta^2 g / ||theta g|| (false: SAM's d * g / ||g||); not fisher"),
    positive("logit_scale", 1.0, "factor on the divergence d (the official code's logit_scale)"),
    kKlReduction.spec("kl_reduction", KlReduction::code,
         "\"code\": d = sum KL / (B^2 C) as the official kl.py; \"batchmean\": sum KL / B (the "
         "paper's E_x[KL])"),
    real("sigma", 0.1,
         "input noise of targets noise and fisher: std of normal noise, half-width of uniform", 0.0),
    kNoiseType.spec("noise_type", NoiseType::normal, "input noise: \"normal\" N(0, sigma^2) or \"uniform\" U(-sigma, sigma)"),
    positive("fisher_gamma", 0.1, "fisher: radius gamma of the Fisher SAM neighbourhood"),
    real("fisher_eta", 0.1, "fisher: f = 1 + fisher_eta * g_z^2, g_z the gradient at x + z", 0.0),
    kFisherSource.spec("fisher_source", FisherSource::separate,
         "fisher: \"separate\" = g clean and g_z from an extra noised pass (Algorithm 2, 3 fwd / "
         "3 bwd), \"shared\" = both from one noised pass (Table 2, 2 fwd / 2 bwd)"),
    kReference.spec("reference", Reference::own,
         "theta_0 of target init: \"own\" = the weights at the stage's first step (paper), "
         "\"teacher\" = the stage's teacher model, \"source\" = the source-trained model at every "
         "stage"),
    kDivergenceData.spec("divergence_data", DivergenceData::batch,
         "inputs of the divergence: \"batch\" (paper), \"current\" = a random batch of the stage "
         "domain's unlabelled inputs, \"next\" = of the next domain's (the current one at the "
         "last stage); not batch: +1 fwd")};

/// Combinations of keys without meaning.
const ParamRules kRules = {
    {{"reference", "target"},
     [](const Params& p) -> std::string {
       return kReference.of(p, "reference") != Reference::own && kTarget.of(p, "target") != Target::init
                  ? "a reference model stands in for theta_0 of target = \"init\"; \"prev\" compares "
                    "with the previous step, \"noise\" and \"fisher\" use no reference model"
                  : "";
     }},
    {{"divergence_data", "target"},
     [](const Params& p) -> std::string {
       return kDivergenceData.of(p, "divergence_data") != DivergenceData::batch && kTarget.of(p, "target") == Target::fisher
                  ? "TRAM-Fisher (target = \"fisher\") measures no divergence, and its noised gradient "
                    "needs the batch's labels; use divergence_data = \"batch\""
                  : "";
     }}};

struct TramOptions {
  Target target;
  bool adaptive;
  double logit_scale;
  bool code_reduction;  ///< ΣKL/(B²·C) as kl.py, else ΣKL/B
  double sigma;
  bool uniform_noise;
  double fisher_gamma, fisher_eta;
  bool fisher_shared;
  Reference reference;
  DivergenceData data;
};

TramOptions tram_options(const Params& p) {
  TramOptions o;
  o.target = kTarget.of(p, "target");
  o.adaptive = p.flag("adaptive");
  o.logit_scale = p.real("logit_scale");
  o.code_reduction = kKlReduction.of(p, "kl_reduction") == KlReduction::code;
  o.sigma = p.real("sigma");
  o.uniform_noise = kNoiseType.of(p, "noise_type") == NoiseType::uniform;
  o.fisher_gamma = p.real("fisher_gamma");
  o.fisher_eta = p.real("fisher_eta");
  o.fisher_shared = kFisherSource.of(p, "fisher_source") == FisherSource::shared;
  o.reference = kReference.of(p, "reference");
  o.data = kDivergenceData.of(p, "divergence_data");
  return o;
}

bool same_shapes(const Tensors& a, const Tensors& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i].sizes() != b[i].sizes()) return false;
  return true;
}

/// Loads other weights and buffers into the model while this lives, then puts the model's
/// own back exactly (SavedWeights, as Perturbed does).
class Borrowed {
 public:
  Borrowed(Model& model, const Tensors& params, const Tensors& buffers)
      : own_params_(fitting(model.parameters(), params)), own_buffers_(fitting(model.buffers(), buffers)) {
    restore(model.parameters(), params);
    restore(model.buffers(), buffers);
  }

 private:
  static Tensors fitting(Tensors own, const Tensors& other) {
    if (!same_shapes(own, other)) throw std::logic_error("tram: the reference weights do not fit the model being trained");
    return own;
  }
  SavedWeights own_params_, own_buffers_;
};

class Tram : public OptimizerWith<TramOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    if (o_.target == Target::fisher) return fisher_step(ctx);
    Model& model = ctx.model();
    const bool has_model_reference = o_.target == Target::prev || o_.target == Target::init;
    if (has_model_reference && !has_reference_) keep_reference(model);  // θ at the first step
    torch::Tensor batch_logits;  // from the training forward: no extra pass for them
    auto loss = ctx.custom_loss_and_grad(ctx.inputs(), [&](const torch::Tensor& logits) {
      batch_logits = logits.detach();
      return ctx.batch_loss(logits, torch::Tensor());
    });
    const Tensors g = gradients(params_);
    const torch::Tensor d = divergence(ctx, batch_logits) * o_.logit_scale;
    {
      Perturbed at(params_, ascent(g, d));  // θ + e
      ctx.loss_and_grad();                  // the gradient at θ + e, left in .grad
    }
    if (o_.target == Target::prev) {  // θ_t (unperturbed) is θ_{t−1} of the next step
      restore(ref_params_, model.parameters());
      restore(ref_buffers_, model.buffers());
    }
    base_step();
    return loss;
  }

  void begin_stage(const StageInputs& inputs) override {
    has_reference_ = false;  // θ_{t−1} and θ_0 start again at this stage's first step
    ref_params_.clear();
    ref_buffers_.clear();
    // A copy of the teacher's weights and buffers: StageInputs::start is valid only here.
    if (o_.reference == Reference::teacher && inputs.start) keep_reference(*inputs.start);
    if (o_.reference == Reference::source) {
      // In source training there is no source model yet: θ_0 is the model it starts from.
      const Model* source = inputs.source ? inputs.source : inputs.start;
      if (source) keep_reference(*source);
    }
    current_x_ = inputs.current_x;
    const bool has_next = inputs.next_x.defined() && inputs.next_x.size(0) > 0;
    next_x_ = has_next ? inputs.next_x : inputs.current_x;  // the last stage has no next domain
  }

  void save(torch::serialize::OutputArchive& archive) const override {
    Optimizer::save(archive);
    write_int(archive, "tram_has_reference", has_reference_);
    torch::optim::serialize(archive, "tram_reference_params", ref_params_);
    torch::optim::serialize(archive, "tram_reference_buffers", ref_buffers_);
  }

  void load(torch::serialize::InputArchive& archive) override {
    Optimizer::load(archive);
    has_reference_ = read_int(archive, "tram_has_reference") != 0;
    torch::optim::serialize(archive, "tram_reference_params", ref_params_);
    torch::optim::serialize(archive, "tram_reference_buffers", ref_buffers_);
  }

 private:

  void keep_reference(const Model& model) {
    ref_params_ = snapshot(model.parameters());
    ref_buffers_ = snapshot(model.buffers());
    has_reference_ = true;
  }

  /// KL(p_ref ‖ p_θ) on the divergence data, reduced as kl_reduction says.
  torch::Tensor divergence(StepContext& ctx, const torch::Tensor& batch_logits) {
    Model& model = ctx.model();
    const bool on_batch = o_.data == DivergenceData::batch;
    const torch::Tensor x = on_batch ? ctx.inputs() : draw_inputs(ctx);
    torch::Tensor current, reference;
    if (on_batch) {
      current = batch_logits;
    } else {
      EvalMode eval(model);
      current = ctx.logits(x);
    }
    if (o_.target == Target::noise) {
      const torch::Tensor noised = x + noise_like(x);
      if (on_batch) {
        reference = ctx.logits(noised);  // the model's own mode, as the official code
      } else {
        EvalMode eval(model);
        reference = ctx.logits(noised);
      }
    } else {
      EvalMode eval(model);
      Borrowed as_reference(model, ref_params_, ref_buffers_);
      reference = ctx.logits(x);
    }
    return kl(reference, current);
  }

  /// A 0-d float64 tensor on the logits' device: the radius never leaves the device.
  torch::Tensor kl(const torch::Tensor& reference, const torch::Tensor& current) const {
    torch::NoGradGuard no_grad;
    const auto log_ref = reference.to(torch::kFloat64).log_softmax(-1);
    const auto log_cur = current.to(torch::kFloat64).log_softmax(-1);
    const auto p_ref = log_ref.exp();
    const auto terms = torch::where(p_ref > 0, p_ref * (log_ref - log_cur), torch::zeros_like(p_ref));
    const auto sum = terms.sum();
    const double b = static_cast<double>(reference.size(0));
    return o_.code_reduction ? sum / (static_cast<double>(reference.numel()) * b) : sum / b;
  }

  Tensors ascent(const Tensors& g, const torch::Tensor& d) const {
    if (!o_.adaptive) return sam_ascent(g, d);
    // tram.py's ASAM: T = |θ| on every tensor, no eta.
    return adaptive_ascent(params_, g, d, 0.0);
  }

  torch::Tensor noise_like(const torch::Tensor& x) const {
    if (o_.uniform_noise) return (torch::rand_like(x) * 2 - 1) * o_.sigma;
    return torch::randn_like(x) * o_.sigma;
  }

  /// B inputs drawn with replacement from the current (or next) domain's unlabelled inputs.
  torch::Tensor draw_inputs(const StepContext& ctx) const {
    const torch::Tensor& pool = o_.data == DivergenceData::next ? next_x_ : current_x_;
    if (!pool.defined() || pool.size(0) == 0)
      throw std::logic_error(
          "tram: divergence_data = \"current\" or \"next\" needs the stage's unlabelled inputs, "
          "which Optimizer::begin_stage offers");
    // Drawn on the CPU's generator, as on every device, then moved to the pool.
    const auto rows = torch::randint(pool.size(0), {ctx.batch_size()}, torch::kInt64);
    return pool.index_select(0, rows.to(pool.device())).to(ctx.inputs().device());
  }

  /// Algorithm 2: the Fisher SAM neighbourhood with the Fisher at noised inputs.
  torch::Tensor fisher_step(StepContext& ctx) {
    const torch::Tensor noised = ctx.inputs() + noise_like(ctx.inputs());
    auto noised_pass = [&] {
      return ctx.custom_loss_and_grad(
          noised, [&](const torch::Tensor& logits) { return ctx.batch_loss(logits, torch::Tensor()); });
    };
    torch::Tensor loss;
    Tensors g, gz;
    if (o_.fisher_shared) {
      loss = noised_pass();  // the loss at x + z: the step has no clean pass at θ
      g = gradients(params_);
      gz = g;
    } else {
      loss = ctx.loss_and_grad();
      g = gradients(params_);
      noised_pass();
      gz = gradients(params_);
    }
    Tensors e;
    {
      torch::NoGradGuard no_grad;
      Tensors g_over_f;
      for (std::size_t i = 0; i < g.size(); ++i)
        g_over_f.push_back(g[i] / gz[i].square().mul(o_.fisher_eta).add(1.0));
      const auto gfg = dot(g, g_over_f);  // Σ g²/f
      const auto scale = o_.fisher_gamma / (gfg.sqrt() + 1e-12);
      for (const auto& t : g_over_f) e.push_back(t * scale);
    }
    {
      Perturbed at(params_, e);
      ctx.loss_and_grad();  // on the clean batch
    }
    base_step();
    return loss;
  }

  bool has_reference_ = false;
  Tensors ref_params_, ref_buffers_;  ///< θ_{t−1} (prev) or θ_0 (init): weights and buffers
  torch::Tensor current_x_, next_x_;  ///< the stage's unlabelled inputs (divergence_data)
};

const bool registered = optimizer_registry().add(
    {"tram",
     "TRAM, trust-region aware minimization: SAM/ASAM whose radius is a function-space "
     "divergence (Sherborne et al., ICLR 2024)",
     kKeys,
     variant<Tram>(tram_options),
     "3 fwd / 2 bwd (+1 fwd with divergence_data current/next; fisher: 3 / 3 separate, 2 / 2 shared)",
     kRules});

}  // namespace
}  // namespace gda
