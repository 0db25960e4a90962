#pragma once
// IDOL's fine indexing (Chen and Chao, NeurIPS 2021, "Gradual Domain Adaptation without
// Indexed Intermediate Domains"; docs/GENERATORS.md, discovered, order_by = "idol"): the
// coarse order of the progressive domain discriminator, refined one domain at a time by a
// cycle-consistency criterion. A good next domain is one that a model can self-train on and
// then self-train back from without forgetting the current domain. The choice among the
// remaining pool rows is relaxed to weights q, started from the coarse order and moved by the
// gradient of the round trip's loss through one unrolled step each way (meta-reweighting);
// the top rows by q become the next domain, and a proxy model self-trains on them.
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace gda {

class Model;

struct IdolSettings {
  int meta_steps = 1;         ///< gradient steps on q per domain
  double meta_rate = 0.1;     ///< one step moves q by meta_rate · gradient / rms(gradient)
  double inner_lr = 0.01;     ///< α of the unrolled SGD steps, to the candidates and back
  int epochs = 5;             ///< the proxy's self-training on each chosen domain
  double proxy_lr = 1e-3;     ///< its Adam learning rate (the reference recipe's)
  std::int64_t proxy_batch = 128;
  std::int64_t chunk = 256;   ///< rows per forward pass (double backward holds a chunk's graph)
};

/// ∂L_cycle/∂q for candidate rows weighted by q (labelled cand_y by the current model):
/// θ′ = θ − α∇[Σ q_i ℓ_i(θ)/N], back labels = argmax of θ′ on the current domain,
/// θ″ = θ′ − α∇L_back(θ′), L_cycle = mean cross-entropy of θ″ on (cur_x, cur_y). Exact, by
/// a Hessian-vector product at θ′ and a double backward at θ; the argmax labels are
/// constants. The model is evaluated in eval mode and left with its weights and mode.
torch::Tensor cycle_gradient(Model& model, const torch::Tensor& cur_x, const torch::Tensor& cur_y,
                             const torch::Tensor& cand_x, const torch::Tensor& cand_y, const torch::Tensor& q,
                             double inner_lr, std::int64_t chunk);

/// One score per pool row (lower = nearer the source): the rows of the first chosen domain,
/// then the second's, …, then the n mod domains rows left over, so that sorting by score and
/// cutting equal groups gives back the chosen domains. `coarse` orders the pool (lower =
/// nearer the source); `model` (the source model) is copied, not changed, and LibTorch's
/// global generator is left as it was.
std::vector<double> idol_scores(const Model& model, const torch::Tensor& source_x, const torch::Tensor& source_y,
                                const torch::Tensor& pool_x, const std::vector<double>& coarse, std::int64_t domains,
                                const IdolSettings& s, std::uint64_t seed);

}  // namespace gda
