#include "stages/shift/idol_refinement.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "core/error.h"
#include "core/random.h"
#include "stages/analysis/loss_surface.h"
#include "stages/eval/evaluator.h"
#include "stages/models/model.h"
#include "stages/optim/step_context.h"
#include "stages/optim/tensor_list.h"
#include "stages/shift/order_discovery.h"

namespace gda {
namespace {

/// Per-row cross-entropy of the model on x against y.
torch::Tensor row_losses(Model& model, const torch::Tensor& x, const torch::Tensor& y) {
  return cross_entropy_per_sample(model.forward(x), y);
}

/// ⟨∇ℓ_i(θ), v⟩ for every row i: the gradient, with respect to unit weights w, of
/// ⟨∇Σ w_i ℓ_i, v⟩ (a double backward per chunk).
torch::Tensor row_directional_derivatives(Model& model, const torch::Tensor& x, const torch::Tensor& y, const Tensors& v,
                                          std::int64_t chunk) {
  const Tensors params = model.parameters();
  std::vector<torch::Tensor> parts;
  for (std::size_t i = 0; i < chunk_count(x.size(0), chunk); ++i) {
    const auto xs = chunk_rows(x, i, chunk);
    auto w = torch::ones({xs.size(0)}, xs.options().dtype(params.front().scalar_type())).requires_grad_(true);
    const auto loss = (row_losses(model, xs, chunk_rows(y, i, chunk)) * w).sum();
    const auto g = torch::autograd::grad({loss}, params, {}, true, /*create_graph=*/true, /*allow_unused=*/true);
    torch::Tensor inner = torch::zeros({}, loss.options());
    for (std::size_t j = 0; j < g.size(); ++j)
      if (g[j].defined()) inner = inner + (g[j] * v[j]).sum();
    parts.push_back(torch::autograd::grad({inner}, {w}, {}, false, false, true)[0]);
  }
  return torch::cat(parts);
}

/// The proxy's self-training on a chosen domain: Adam on its own pseudo-labels, minibatches
/// drawn from `rng`, in eval mode (no dropout draw; BatchNorm's statistics stay the source's).
void self_train_proxy(Model& proxy, const torch::Tensor& x, const torch::Tensor& y, const IdolSettings& s, Rng& rng) {
  torch::optim::Adam adam(proxy.parameters(), torch::optim::AdamOptions(s.proxy_lr));
  for (int e = 0; e < s.epochs; ++e) {
    const auto order = torch::tensor(permutation(x.size(0), rng), torch::kInt64).to(x.device());
    for (std::int64_t b = 0; b < x.size(0); b += s.proxy_batch) {
      const auto idx = order.slice(0, b, std::min(x.size(0), b + s.proxy_batch));
      adam.zero_grad();
      row_losses(proxy, x.index_select(0, idx), y.index_select(0, idx)).mean().backward();
      adam.step();
    }
  }
}

/// The weights q of the remaining rows (ordered nearest the source first) after
/// s.meta_steps normalised gradient steps from the coarse start 1 … 0.
torch::Tensor refined_weights(Model& proxy, const torch::Tensor& cur_x, const torch::Tensor& cur_y,
                              const torch::Tensor& cand_x, const torch::Tensor& cand_y, const IdolSettings& s) {
  auto q = torch::linspace(1.0, 0.0, cand_x.size(0), cand_x.options().dtype(torch::kFloat32));
  for (int step = 0; step < s.meta_steps; ++step) {
    const auto g = cycle_gradient(proxy, cur_x, cur_y, cand_x, cand_y, q, s.inner_lr, s.chunk).to(q.scalar_type());
    const auto rms = g.pow(2).mean().sqrt();
    q = (q - s.meta_rate * g / rms.clamp_min(1e-30)).clamp_min(0.0);
  }
  return q;
}

}  // namespace

torch::Tensor cycle_gradient(Model& model, const torch::Tensor& cur_x, const torch::Tensor& cur_y,
                             const torch::Tensor& cand_x, const torch::Tensor& cand_y, const torch::Tensor& q,
                             double inner_lr, std::int64_t chunk) {
  EvalMode eval(model);  // per-row losses (BatchNorm's running statistics), and no random draw
  const Tensors params = model.parameters();
  const SavedWeights leave_as_found(params);
  const Tensors& theta = leave_as_found.saved();
  Tensors g_forward, g_back, g_cycle;
  mean_loss_surface(model, cand_x, cand_y, chunk, q.to(params.front().scalar_type())).value_and_gradient(g_forward);
  add_to(params, g_forward, -inner_lr);  // θ′: one step on the weighted candidates
  const Tensors theta1 = snapshot(params);
  const auto back_y = predict_logits(model, cur_x, chunk).argmax(1);
  const LossSurface back = mean_loss_surface(model, cur_x, back_y, chunk);
  back.value_and_gradient(g_back);
  add_to(params, g_back, -inner_lr);  // θ″: one step back on the current domain
  mean_loss_surface(model, cur_x, cur_y, chunk).value_and_gradient(g_cycle);
  // dL/dq_i = ⟨∇L_cycle(θ″), (I − αH_back(θ′)) · (−α/N)∇ℓ_i(θ)⟩
  restore(params, theta1);
  const Tensors h = back.hessian_vector_product(g_cycle);
  Tensors v;
  for (std::size_t j = 0; j < g_cycle.size(); ++j) v.push_back(g_cycle[j] - inner_lr * h[j]);
  restore(params, theta);
  return row_directional_derivatives(model, cand_x, cand_y, v, chunk) * (-inner_lr / double(cand_x.size(0)));
}

std::vector<double> idol_scores(const Model& model, const torch::Tensor& source_x, const torch::Tensor& source_y,
                                const torch::Tensor& pool_x, const std::vector<double>& coarse, std::int64_t domains,
                                const IdolSettings& s, std::uint64_t seed) {
  torch::AutoGradMode grad(true);
  const auto proxy = model.quiet_clone();
  EvalMode eval(*proxy);
  Rng rng(derive_seed(seed, "discovered/idol"));
  const std::int64_t n = pool_x.size(0), per = domains > 0 ? n / domains : n;
  std::vector<std::int64_t> left = order_by_score(coarse);  // the remaining rows, nearest the source first
  std::vector<double> scores(std::size_t(n), 0.0);
  double place = 0;
  torch::Tensor cur_x = source_x, cur_y = source_y;
  for (std::int64_t m = 0; m < domains && per > 0; ++m) {
    const auto cand_x = pool_x.index_select(0, torch::tensor(left, torch::kInt64).to(pool_x.device()));
    const auto cand_y = predict_logits(*proxy, cand_x, s.chunk).argmax(1);
    const auto qt = refined_weights(*proxy, cur_x, cur_y, cand_x, cand_y, s).to(torch::kCPU).contiguous();
    if (!torch::isfinite(qt).all().item<bool>())
      throw NumericError("shift.order_by = \"idol\": the candidate weights are not finite numbers (the unrolled "
                         "steps diverged?); try a smaller shift.inner_lr", "order discovery", 0);
    const std::vector<float> q(qt.data_ptr<float>(), qt.data_ptr<float>() + qt.numel());
    std::vector<std::size_t> by(left.size());
    std::iota(by.begin(), by.end(), 0);
    // Highest q first; ties stay in the coarse order.
    std::stable_sort(by.begin(), by.end(), [&](std::size_t a, std::size_t b) { return q[a] > q[b]; });
    std::vector<bool> chosen(left.size(), false);
    std::vector<std::int64_t> members;  // positions in `left`, highest q first
    for (std::size_t i = 0; i < std::size_t(per); ++i) {
      chosen[by[i]] = true;
      members.push_back(std::int64_t(by[i]));
      scores[std::size_t(left[by[i]])] = place++;
    }
    std::vector<std::int64_t> still;
    for (std::size_t i = 0; i < left.size(); ++i)
      if (!chosen[i]) still.push_back(left[i]);
    const auto index = torch::tensor(members, torch::kInt64).to(pool_x.device());
    cur_x = cand_x.index_select(0, index), cur_y = cand_y.index_select(0, index);
    self_train_proxy(*proxy, cur_x, cur_y, s, rng);
    left = std::move(still);
  }
  for (auto i : left) scores[std::size_t(i)] = place++;  // the rows left over, in the coarse order
  return scores;
}

}  // namespace gda
