// The multi-tensor steps of stages/optim/multi_tensor.h against LibTorch's own SGD, Adam and
// AdamW: on the CPU they must give the same numbers bit for bit, step after step, with every
// option gda exposes, a parameter that has no gradient in some steps, and state saved by one
// and loaded by the other.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include "stages/optim/multi_tensor.h"

namespace gda::test {
namespace {

using Tensors = std::vector<torch::Tensor>;

/// Parameters of three shapes, the same for every call with the same seed.
Tensors fresh_params() {
  torch::manual_seed(7);
  return {torch::randn({3, 4}).requires_grad_(), torch::randn({5}).requires_grad_(),
          torch::randn({2, 3, 3}).requires_grad_()};
}

/// Gradients of step `k`: random, and none for the second parameter on odd steps (such a
/// parameter is skipped, and its step count falls behind the others').
void set_grads(const Tensors& params, int k) {
  torch::manual_seed(100 + k);
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto& g = params[i].mutable_grad();
    g = (i == 1 && k % 2 == 1) ? torch::Tensor() : torch::randn_like(params[i]);
  }
}

void expect_identical(const Tensors& a, const Tensors& b, int k) {
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i << " after step " << k;
}

/// `steps` steps of LibTorch's optimizer and of gda's on the same gradients; then the state
/// of gda's is saved and loaded into a fresh LibTorch one, and both take two more steps.
template <class Reference, class MultiTensor, class Options>
void expect_same_steps(const Options& options, int steps = 4) {
  auto ref_params = fresh_params(), our_params = fresh_params();
  Reference ref(ref_params, options);
  MultiTensor ours(our_params, options);
  for (int k = 0; k < steps; ++k) {
    set_grads(ref_params, k);
    set_grads(our_params, k);
    ref.step();
    ours.step();
    expect_identical(ref_params, our_params, k);
  }
  std::stringstream saved;
  {
    torch::serialize::OutputArchive archive;
    ours.save(archive);
    archive.save_to(saved);
  }
  auto resumed_params = fresh_params();
  {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 0; i < resumed_params.size(); ++i) resumed_params[i].copy_(our_params[i]);
  }
  Reference resumed(resumed_params, options);
  torch::serialize::InputArchive archive;
  archive.load_from(saved);
  resumed.load(archive);
  for (int k = steps; k < steps + 2; ++k) {
    set_grads(resumed_params, k);
    set_grads(our_params, k);
    resumed.step();
    ours.step();
    expect_identical(resumed_params, our_params, k);
  }
}

TEST(MultiTensorSteps, SgdPlainMomentumDampeningNesterovAndWeightDecayMatchLibTorch) {
  using torch::optim::SGDOptions;
  expect_same_steps<torch::optim::SGD, MultiTensorSgd>(SGDOptions(0.1));
  expect_same_steps<torch::optim::SGD, MultiTensorSgd>(SGDOptions(0.1).momentum(0.9).weight_decay(0.01));
  expect_same_steps<torch::optim::SGD, MultiTensorSgd>(SGDOptions(0.05).momentum(0.8).dampening(0.3));
  expect_same_steps<torch::optim::SGD, MultiTensorSgd>(
      SGDOptions(0.1).momentum(0.9).nesterov(true).weight_decay(0.1));
}

TEST(MultiTensorSteps, AdamWithAndWithoutWeightDecayMatchesLibTorch) {
  using torch::optim::AdamOptions;
  expect_same_steps<torch::optim::Adam, MultiTensorAdam>(AdamOptions(1e-3));
  expect_same_steps<torch::optim::Adam, MultiTensorAdam>(
      AdamOptions(0.1).betas({0.8, 0.99}).eps(1e-6).weight_decay(1e-4));
  // amsgrad is not a gda key; it takes LibTorch's own step.
  expect_same_steps<torch::optim::Adam, MultiTensorAdam>(AdamOptions(0.01).amsgrad(true));
}

TEST(MultiTensorSteps, AdamWWithAndWithoutWeightDecayMatchesLibTorch) {
  using torch::optim::AdamWOptions;
  expect_same_steps<torch::optim::AdamW, MultiTensorAdamW>(AdamWOptions(1e-3).weight_decay(0));
  expect_same_steps<torch::optim::AdamW, MultiTensorAdamW>(
      AdamWOptions(0.1).betas({0.85, 0.995}).weight_decay(0.05));
}

TEST(MultiTensorSteps, AStepWithoutAnyGradientChangesNothing) {
  auto params = fresh_params();
  const auto before = params[0].detach().clone();
  MultiTensorAdam adam(params, torch::optim::AdamOptions(0.1));
  adam.step();
  EXPECT_TRUE(torch::equal(params[0], before));
  EXPECT_TRUE(adam.state().empty());
}

}  // namespace
}  // namespace gda::test
