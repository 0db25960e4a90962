#include "stages/optim/neighbourhood.h"

#include <torch/torch.h>

#include "core/torch_compat.h"
#include "stages/models/model.h"

namespace gda {

Tensors sam_ascent(const Tensors& g, const torch::Tensor& rho) {
  torch::NoGradGuard no_grad;
  return multiply_all(g, rho / (squared_norm(g).sqrt() + 1e-12));
}

Tensors sam_ascent(const Tensors& g, double rho) { return sam_ascent(g, scalar_like(rho, g.front())); }

Tensors adaptive_ascent(const Tensors& w, const Tensors& g, const torch::Tensor& rho, double eta,
                        const std::vector<bool>& scaled) {
  torch::NoGradGuard no_grad;
  const bool all = scaled.empty();
  Tensors tg;  // T·g
  Tensors t;
  for (std::size_t i = 0; i < w.size(); ++i) {
    t.push_back((all || scaled[i]) ? w[i].detach().abs() + eta : torch::ones_like(w[i]));
    tg.push_back(t[i] * g[i]);
  }
  const auto scale = rho / (squared_norm(tg).sqrt() + 1e-16);
  Tensors e;
  for (std::size_t i = 0; i < w.size(); ++i) e.push_back(t[i] * tg[i] * scale);
  return e;
}

Tensors adaptive_ascent(const Tensors& w, const Tensors& g, double rho, double eta,
                        const std::vector<bool>& scaled) {
  return adaptive_ascent(w, g, scalar_like(rho, g.front()), eta, scaled);
}

std::vector<bool> weight_tensors(const Model& model) {
  std::vector<bool> scaled;
  for (const auto& item : model.named_parameters())
    scaled.push_back(item.key().find("weight") != std::string::npos);
  return scaled;
}

}  // namespace gda
