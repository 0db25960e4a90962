#pragma once
// torch::optim's SGD, Adam and AdamW with a step that updates every parameter of a group at
// once through LibTorch's multi-tensor (_foreach_) operations. On a GPU, LibTorch's own step
// launches ~8 small kernels per parameter tensor (about a hundred for the reference CNN),
// and at batch 128 those launches, not the arithmetic, bound a training step; the
// multi-tensor step launches about ten. On the CPU each _foreach_ operation is LibTorch's
// per-tensor operation in a loop, so the numbers are LibTorch's bit for bit there.
//
// Only step() differs: options, per-parameter state (its keys and types), save and load are
// the base classes', so sampa's state surgery, checkpoints and resumed runs are unchanged.
#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

namespace gda {

class MultiTensorSgd : public torch::optim::SGD {
 public:
  using torch::optim::SGD::SGD;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

class MultiTensorAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

class MultiTensorAdamW : public torch::optim::AdamW {
 public:
  using torch::optim::AdamW::AdamW;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace gda
