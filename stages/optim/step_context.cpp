#include "stages/optim/step_context.h"

#include <torch/torch.h>

#include "stages/models/model.h"

namespace gda {

PassCount& PassCount::operator+=(const PassCount& o) {
  forward += o.forward;
  backward += o.backward;
  forward_samples += o.forward_samples;
  backward_samples += o.backward_samples;
  return *this;
}

torch::Tensor cross_entropy_per_sample(const torch::Tensor& logits, const torch::Tensor& labels) {
  return torch::nn::functional::cross_entropy(
      logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
}

StepContext::StepContext(Model& model, torch::Tensor x, torch::Tensor y, torch::Tensor weight,
                         SampleLoss sample_loss)
    : model_(model), params_(model.parameters()), x_(std::move(x)), y_(std::move(y)),
      weight_(std::move(weight)), sample_loss_(std::move(sample_loss)) {}

torch::Tensor StepContext::batch_loss(const torch::Tensor& outputs, const torch::Tensor& subset) const {
  auto y = subset.defined() ? y_.index_select(0, subset) : y_;
  return reduce(sample_loss_(outputs, y), subset);
}

torch::Tensor StepContext::reduce(const torch::Tensor& per_sample, const torch::Tensor& subset) const {
  if (!weight_.defined()) return per_sample.mean();
  auto w = subset.defined() ? weight_.index_select(0, subset) : weight_;
  return (per_sample * w).sum() / w.sum();
}

void StepContext::write_grads(const std::vector<torch::Tensor>& grads) {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto& g = params_[i].mutable_grad();
    if (grads[i].defined()) g = grads[i];
    else g = torch::zeros_like(params_[i]);
  }
}

torch::Tensor StepContext::loss_and_grad(const torch::Tensor& subset) {
  auto x = subset.defined() ? x_.index_select(0, subset) : x_;
  return custom_loss_and_grad(x, [&](const torch::Tensor& logits) { return batch_loss(logits, subset); });
}

torch::Tensor StepContext::loss_and_grad(const torch::Tensor& subset, torch::Tensor& per_sample) {
  auto x = subset.defined() ? x_.index_select(0, subset) : x_;
  auto y = subset.defined() ? y_.index_select(0, subset) : y_;
  return custom_loss_and_grad(x, [&](const torch::Tensor& outputs) {
    auto l = sample_loss_(outputs, y);
    per_sample = l.detach();
    return reduce(l, subset);
  });
}

torch::Tensor StepContext::custom_loss_and_grad(
    const torch::Tensor& x, const std::function<torch::Tensor(const torch::Tensor&)>& loss_of) {
  torch::AutoGradMode grad_on(true);
  auto loss = loss_of(model_.forward(x));
  passes_.forward += 1;
  passes_.forward_samples += x.size(0);
  // autograd::grad leaves .grad alone, so the optimizer decides what the step uses.
  auto grads = torch::autograd::grad({loss}, params_, {}, /*retain_graph=*/false,
                                     /*create_graph=*/false, /*allow_unused=*/true);
  passes_.backward += 1;
  passes_.backward_samples += x.size(0);
  write_grads(grads);
  return loss.detach();
}

torch::Tensor StepContext::sample_losses(const torch::Tensor& subset) {
  torch::NoGradGuard no_grad;
  auto x = subset.defined() ? x_.index_select(0, subset) : x_;
  auto y = subset.defined() ? y_.index_select(0, subset) : y_;
  auto out = sample_loss_(model_.forward(x), y);
  passes_.forward += 1;
  passes_.forward_samples += x.size(0);
  return out;
}

torch::Tensor StepContext::logits(const torch::Tensor& x) {
  torch::NoGradGuard no_grad;
  auto out = model_.forward(x);
  passes_.forward += 1;
  passes_.forward_samples += x.size(0);
  return out;
}

}  // namespace gda
