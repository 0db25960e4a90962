#pragma once
// What an optimizer may ask for during one step. Sharpness-aware optimizers need the
// loss and gradient more than once per step (SAM at w and at w+e, ESAM on a subset of the
// batch, mSAM per micro-batch, TRAM an extra forward for its trust region), so the step
// context owns the model and the batch and hands out exactly these services. It counts
// every forward and backward pass: the cost of an optimizer is a measured, tested fact.
#include <torch/types.h>

#include <functional>
#include <vector>

namespace gda {

class Model;

struct PassCount {
  std::int64_t forward = 0, backward = 0;                  ///< passes (calls)
  std::int64_t forward_samples = 0, backward_samples = 0;  ///< samples through them
  PassCount& operator+=(const PassCount& o);
};

/// Per-sample losses from the model's outputs and the targets.
using SampleLoss = std::function<torch::Tensor(const torch::Tensor& outputs, const torch::Tensor& targets)>;

/// Cross-entropy of logits against int64 class labels, per sample.
torch::Tensor cross_entropy_per_sample(const torch::Tensor& logits, const torch::Tensor& labels);

class StepContext {
 public:
  /// weight: optional per-sample loss weights ([N]); the loss is then sum(w·l) / sum(w),
  /// else the mean. sample_loss defaults to cross-entropy (tests use simple quadratics).
  StepContext(Model& model, torch::Tensor x, torch::Tensor y, torch::Tensor weight = {},
              SampleLoss sample_loss = cross_entropy_per_sample);

  /// Forward and backward of the (weighted) mean cross-entropy over the batch, or over
  /// rows `subset` (int64) of it, at the current weights. Each parameter's .grad is
  /// overwritten with the gradient. Returns the loss (a 0-d tensor without graph).
  torch::Tensor loss_and_grad(const torch::Tensor& subset = {});

  /// loss_and_grad that also hands back, in `per_sample`, the per-sample losses of the same
  /// forward (unweighted, detached, in the order of `subset`): for optimizers that rank
  /// samples (ESAM, AUSAM) without paying another forward. Counted as loss_and_grad.
  torch::Tensor loss_and_grad(const torch::Tensor& subset, torch::Tensor& per_sample);

  /// Per-sample losses at the current weights, forward only.
  torch::Tensor sample_losses(const torch::Tensor& subset = {});

  /// Logits of the model at the current weights on any inputs, forward only — e.g. a
  /// function-space divergence against another model or noised inputs.
  torch::Tensor logits(const torch::Tensor& x);

  /// Forward and backward of a caller-built scalar `loss_of(logits, rows)` on inputs x;
  /// each parameter's .grad is overwritten. For passes the plain loss cannot express.
  torch::Tensor custom_loss_and_grad(
      const torch::Tensor& x,
      const std::function<torch::Tensor(const torch::Tensor& logits)>& loss_of);

  /// The (weighted) mean loss of `outputs` against the targets of rows `subset` (all rows
  /// when undefined): for losses built inside custom_loss_and_grad (e.g. TRAM's penalty).
  torch::Tensor batch_loss(const torch::Tensor& outputs, const torch::Tensor& subset = {}) const;

  /// Counts a forward pass of `samples` inputs through another model (e.g. TRAM's
  /// reference model), so the step's cost stays a measured fact.
  void count_forward(std::int64_t samples) {
    passes_.forward += 1;
    passes_.forward_samples += samples;
  }

  Model& model() { return model_; }
  const std::vector<torch::Tensor>& params() const { return params_; }
  const torch::Tensor& inputs() const { return x_; }
  const torch::Tensor& targets() const { return y_; }
  std::int64_t batch_size() const { return x_.size(0); }
  const PassCount& passes() const { return passes_; }

 private:
  /// The (weighted) mean of per-sample losses of rows `subset`.
  torch::Tensor reduce(const torch::Tensor& per_sample, const torch::Tensor& subset) const;
  void write_grads(const std::vector<torch::Tensor>& grads);

  Model& model_;
  std::vector<torch::Tensor> params_;
  torch::Tensor x_, y_, weight_;
  SampleLoss sample_loss_;
  PassCount passes_;
};

}  // namespace gda
