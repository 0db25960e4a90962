#include "stages/optim/weight_mask.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "stages/models/model.h"
#include "stages/optim/optimizer.h"

namespace gda {

Tensors empirical_fisher(StepContext& ctx, const Tensors& params, std::int64_t n) {
  Tensors fisher;
  for (const auto& p : params) fisher.push_back(torch::zeros_like(p));
  EvalMode eval(ctx.model());
  n = std::min(n, ctx.batch_size());
  const auto rows = torch::arange(n, torch::TensorOptions().dtype(torch::kInt64).device(ctx.inputs().device()));
  for (std::int64_t i = 0; i < n; ++i) {
    ctx.loss_and_grad(rows.slice(0, i, i + 1));
    torch::NoGradGuard no_grad;
    for (std::size_t j = 0; j < params.size(); ++j)
      fisher[j] += params[j].grad().square().nan_to_num(0.0);  // weight 0 gives 0/0
  }
  return fisher;
}

torch::Tensor flatten(const Tensors& ts) {
  Tensors flat;
  for (const auto& t : ts) flat.push_back(t.reshape({-1}));
  return torch::cat(flat);
}

Tensors unflatten(const torch::Tensor& flat, const Tensors& like) {
  Tensors out;
  std::int64_t at = 0;
  for (const auto& t : like) {
    out.push_back(flat.slice(0, at, at + t.numel()).reshape(t.sizes()).clone());
    at += t.numel();
  }
  return out;
}

torch::Tensor top_entries(const torch::Tensor& scores, std::int64_t k) {
  auto chosen = torch::zeros_like(scores);
  k = std::min<std::int64_t>(k, scores.numel());
  if (k > 0) chosen.index_fill_(0, std::get<1>(torch::topk(scores, k)), 1.0);
  return chosen;
}

Tensors masked_ascent(const Tensors& g, const Tensors& mask, double rho) {
  torch::NoGradGuard no_grad;
  const auto scale = rho / (squared_norm(g).sqrt() + 1e-7);
  Tensors e;
  for (std::size_t i = 0; i < g.size(); ++i) e.push_back(g[i] * scale * mask[i]);
  return e;
}

}  // namespace gda
