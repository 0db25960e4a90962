#include "stages/optim/multi_tensor.h"

#include <torch/torch.h>

#include <cmath>

#include "core/torch_compat.h"

namespace gda {
namespace {

using Tensors = std::vector<torch::Tensor>;
using Scalars = std::vector<c10::Scalar>;

/// The parameters of a group that have a gradient, and those gradients.
struct WithGrad {
  Tensors params, grads;
  explicit WithGrad(const torch::optim::OptimizerParamGroup& group) {
    for (const auto& p : group.params())
      if (p.grad().defined()) {
        TORCH_CHECK(!p.grad().is_sparse(), "gda's optimizers take dense gradients only");
        params.push_back(p);
        grads.push_back(p.grad());
      }
  }
};

/// The Adam state of each parameter, made on its first step as LibTorch makes it (step 0,
/// zero moments), and the step advanced by one.
template <class State, class StateMap>
std::vector<State*> advanced_states(StateMap& state, const Tensors& params) {
  std::vector<State*> states;
  for (const auto& p : params) {
    auto& slot = state[optimizer_state_key(state, p)];
    if (!slot) {
      auto fresh = std::make_unique<State>();
      fresh->step(0);
      fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
      slot = std::move(fresh);
    }
    auto* s = static_cast<State*>(slot.get());
    s->step(s->step() + 1);
    states.push_back(s);
  }
  return states;
}

/// Adam's moment update and parameter step (the part Adam and AdamW share), in LibTorch's
/// order of operations: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², and
/// p ← p − lr/(1−β1ᵗ) · m / (√v / √(1−β2ᵗ) + ε), with t each parameter's own step count.
template <class State, class Options>
void adam_update(const Tensors& params, const Tensors& grads, const std::vector<State*>& states,
                 const Options& o) {
  const auto [beta1, beta2] = o.betas();
  Tensors exp_avgs, exp_avg_sqs;
  Scalars sqrt_bias2, neg_step_sizes;
  for (auto* s : states) {
    exp_avgs.push_back(s->exp_avg());
    exp_avg_sqs.push_back(s->exp_avg_sq());
    const double t = static_cast<double>(s->step());
    sqrt_bias2.emplace_back(std::sqrt(1 - std::pow(beta2, t)));
    neg_step_sizes.emplace_back(-(o.lr() / (1 - std::pow(beta1, t))));
  }
  torch::_foreach_mul_(exp_avgs, beta1);
  torch::_foreach_add_(exp_avgs, grads, 1 - beta1);
  torch::_foreach_mul_(exp_avg_sqs, beta2);
  torch::_foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2);
  auto denoms = torch::_foreach_sqrt(exp_avg_sqs);
  torch::_foreach_div_(denoms, sqrt_bias2);
  torch::_foreach_add_(denoms, o.eps());
  torch::_foreach_addcdiv_(params, exp_avgs, denoms, neg_step_sizes);
}

template <class Options>
bool any_amsgrad(const std::vector<torch::optim::OptimizerParamGroup>& groups) {
  for (const auto& g : groups)
    if (static_cast<const Options&>(g.options()).amsgrad()) return true;
  return false;
}

/// The frame of every step: gradients off, the optional closure's loss (evaluated with
/// gradients on, as torch::optim does), then update(options, g) for each group's parameters
/// that have a gradient.
template <class Options, class Update>
torch::Tensor each_group(std::vector<torch::optim::OptimizerParamGroup>& groups,
                         const torch::optim::Optimizer::LossClosure& closure, Update update) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss;
  if (closure) {
    torch::AutoGradMode grad_on(true);
    loss = closure();
  }
  for (auto& group : groups) {
    WithGrad g(group);
    if (!g.params.empty()) update(static_cast<const Options&>(group.options()), g);
  }
  return loss;
}

}  // namespace

torch::Tensor MultiTensorSgd::step(LossClosure closure) {
  return each_group<torch::optim::SGDOptions>(param_groups_, closure, [&](const auto& o, const WithGrad& g) {
    Tensors d_p = g.grads;
    if (o.weight_decay() != 0) d_p = torch::_foreach_add(d_p, g.params, o.weight_decay());
    if (o.momentum() != 0) {
      // A parameter's first step starts its buffer as a copy of d_p; later steps decay it.
      Tensors buffers, old_buffers, old_d_p;
      for (std::size_t i = 0; i < g.params.size(); ++i) {
        auto& slot = state_[optimizer_state_key(state_, g.params[i])];
        if (!slot) {
          auto fresh = std::make_unique<torch::optim::SGDParamState>();
          fresh->momentum_buffer(d_p[i].detach().clone());
          slot = std::move(fresh);
        } else {
          old_buffers.push_back(static_cast<torch::optim::SGDParamState&>(*slot).momentum_buffer());
          old_d_p.push_back(d_p[i]);
        }
        buffers.push_back(static_cast<torch::optim::SGDParamState&>(*slot).momentum_buffer());
      }
      if (!old_buffers.empty()) {
        torch::_foreach_mul_(old_buffers, o.momentum());
        torch::_foreach_add_(old_buffers, old_d_p, 1 - o.dampening());
      }
      d_p = o.nesterov() ? torch::_foreach_add(d_p, buffers, o.momentum()) : buffers;
    }
    torch::_foreach_add_(g.params, d_p, -o.lr());
  });
}

torch::Tensor MultiTensorAdam::step(LossClosure closure) {
  if (any_amsgrad<torch::optim::AdamOptions>(param_groups_)) return torch::optim::Adam::step(closure);
  return each_group<torch::optim::AdamOptions>(param_groups_, closure, [&](const auto& o, const WithGrad& g) {
    auto states = advanced_states<torch::optim::AdamParamState>(state_, g.params);
    // L2 weight decay: added to the gradient the moments see (p.grad stays as it was).
    const Tensors grads = o.weight_decay() != 0 ? torch::_foreach_add(g.grads, g.params, o.weight_decay())
                                                : g.grads;
    adam_update(g.params, grads, states, o);
  });
}

torch::Tensor MultiTensorAdamW::step(LossClosure closure) {
  if (any_amsgrad<torch::optim::AdamWOptions>(param_groups_)) return torch::optim::AdamW::step(closure);
  return each_group<torch::optim::AdamWOptions>(param_groups_, closure, [&](const auto& o, const WithGrad& g) {
    // Decoupled weight decay: the weights shrink before the moments' step.
    if (o.weight_decay() != 0) torch::_foreach_mul_(g.params, 1 - o.lr() * o.weight_decay());
    auto states = advanced_states<torch::optim::AdamWParamState>(state_, g.params);
    adam_update(g.params, g.grads, states, o);
  });
}

}  // namespace gda
