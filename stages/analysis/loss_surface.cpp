#include "stages/analysis/loss_surface.h"

#include <torch/torch.h>

#include <algorithm>

#include "stages/models/model.h"
#include "stages/optim/step_context.h"

namespace gda {

LossSurface::LossSurface(Tensors params, std::function<torch::Tensor(std::size_t)> chunk_loss, std::size_t chunks)
    : params_(std::move(params)), chunk_loss_(std::move(chunk_loss)), chunks_(chunks) {}

double LossSurface::value() const {
  torch::NoGradGuard no_grad;
  double total = 0;
  for (std::size_t i = 0; i < chunks_; ++i, ++passes_) total += chunk_loss_(i).item<double>();
  return total;
}

double LossSurface::value_and_gradient(Tensors& gradient) const {
  gradient.clear();
  for (const auto& p : params_) gradient.push_back(torch::zeros_like(p));
  double total = 0;
  for (std::size_t i = 0; i < chunks_; ++i, passes_ += 2) {
    const torch::Tensor loss = chunk_loss_(i);
    const auto g = torch::autograd::grad({loss}, params_, {}, false, false, /*allow_unused=*/true);
    for (std::size_t j = 0; j < g.size(); ++j)
      if (g[j].defined()) gradient[j].add_(g[j]);
    total += loss.item<double>();
  }
  return total;
}

Tensors LossSurface::hessian_vector_product(const Tensors& v) const {
  Tensors hv;
  for (const auto& p : params_) hv.push_back(torch::zeros_like(p));
  for (std::size_t i = 0; i < chunks_; ++i, passes_ += 3) {  // forward, backward, backward of the backward
    const torch::Tensor loss = chunk_loss_(i);
    auto g = torch::autograd::grad({loss}, params_, {}, true, /*create_graph=*/true, true);
    torch::Tensor inner = torch::zeros({}, loss.options());
    for (std::size_t j = 0; j < g.size(); ++j)
      if (g[j].defined()) inner = inner + (g[j] * v[j]).sum();
    if (!inner.requires_grad()) continue;  // a loss linear in every parameter: H = 0 here
    const auto h = torch::autograd::grad({inner}, params_, {}, false, false, true);
    for (std::size_t j = 0; j < h.size(); ++j)
      if (h[j].defined()) hv[j].add_(h[j]);
  }
  return hv;
}

std::size_t chunk_count(std::int64_t rows, std::int64_t chunk) { return std::size_t((rows + chunk - 1) / chunk); }

torch::Tensor chunk_rows(const torch::Tensor& t, std::size_t i, std::int64_t chunk) {
  const std::int64_t from = std::int64_t(i) * chunk;
  return t.slice(0, from, std::min(t.size(0), from + chunk));
}

LossSurface mean_loss_surface(Model& model, const torch::Tensor& x, const torch::Tensor& y, std::int64_t chunk,
                              const torch::Tensor& w) {
  const double n = double(x.size(0));
  return LossSurface(model.parameters(),
                     [&model, x, y, w, chunk, n](std::size_t i) {
                       auto l = cross_entropy_per_sample(model.forward(chunk_rows(x, i, chunk)), chunk_rows(y, i, chunk));
                       if (w.defined()) l = l * chunk_rows(w, i, chunk);
                       return l.sum() / n;
                     },
                     chunk_count(x.size(0), chunk));
}

}  // namespace gda
