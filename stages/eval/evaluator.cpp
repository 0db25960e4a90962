#include "stages/eval/evaluator.h"

#include <torch/torch.h>

#include "stages/models/model.h"

namespace gda {

namespace {

/// f applied to x in batches, without gradients, in eval mode.
template <class F>
torch::Tensor in_batches(Model& model, const torch::Tensor& x, std::int64_t batch_size, F f) {
  torch::NoGradGuard no_grad;
  EvalMode eval(model);
  std::vector<torch::Tensor> parts;
  for (std::int64_t b = 0; b < x.size(0); b += batch_size)
    parts.push_back(f(x.slice(0, b, std::min(x.size(0), b + batch_size))));
  return parts.empty() ? torch::empty({0}, x.options()) : torch::cat(parts);
}

}  // namespace

torch::Tensor predict_logits(Model& model, const torch::Tensor& x, std::int64_t batch_size) {
  return in_batches(model, x, batch_size, [&](const torch::Tensor& b) { return model.forward(b); });
}

torch::Tensor encode_all(Model& model, const torch::Tensor& x, std::int64_t batch_size) {
  return in_batches(model, x, batch_size, [&](const torch::Tensor& b) { return model.encode(b); });
}

double accuracy(Model& model, const torch::Tensor& x, const torch::Tensor& y, std::int64_t batch_size) {
  if (x.size(0) == 0) return 0.0;
  auto pred = predict_logits(model, x, batch_size).argmax(1);
  return pred.eq(y).to(torch::kFloat64).mean().item<double>();
}

}  // namespace gda
