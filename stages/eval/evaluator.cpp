#include "stages/eval/evaluator.h"

#include <torch/torch.h>

#include "stages/models/model.h"

namespace gda {

torch::Tensor predict_logits(Model& model, const torch::Tensor& x, std::int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  std::vector<torch::Tensor> parts;
  for (std::int64_t b = 0; b < x.size(0); b += batch_size)
    parts.push_back(model.forward(x.slice(0, b, std::min(x.size(0), b + batch_size))));
  model.train(was_training);
  return parts.empty() ? torch::empty({0}) : torch::cat(parts);
}

double accuracy(Model& model, const torch::Tensor& x, const torch::Tensor& y, std::int64_t batch_size) {
  if (x.size(0) == 0) return 0.0;
  auto pred = predict_logits(model, x, batch_size).argmax(1);
  return pred.eq(y).to(torch::kFloat64).mean().item<double>();
}

}  // namespace gda
