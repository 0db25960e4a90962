#pragma once
// The optimizer interface. An optimizer owns one training step: it asks the StepContext
// for losses and gradients as often as its algorithm needs, and finishes with a step of
// its base optimizer (SGD, Adam, AdamW from torch::optim) on the gradient it chose.
//
// Two registries: base optimizers (torch::optim wrappers) and optimizers (what a config
// names: a base used plainly, or a sharpness-aware variant over a base).
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <memory>

#include "core/registry.h"
#include "stages/optim/step_context.h"

namespace gda {

class Model;

/// What a stage offers an optimizer beyond the batch (TRAM's reference model and
/// divergence data). In self-training, `start` is the stage's teacher (the model the
/// student was copied from); in source training it is the freshly initialised model.
/// current_x / next_x: the unlabelled inputs of the domain being trained on and of the
/// next domain on the path (next_x is undefined at the last stage). `source` is the model
/// trained on the source, the same for every adaptation stage (null in source training).
/// The models are valid only during begin_stage: an optimizer that needs one later copies it.
struct StageInputs {
  const Model* start = nullptr;
  torch::Tensor current_x, next_x;
  const Model* source = nullptr;
};

class Optimizer {
 public:
  Optimizer(std::vector<torch::Tensor> params, std::unique_ptr<torch::optim::Optimizer> base);
  virtual ~Optimizer();

  /// One step on the context's batch; returns the loss at the weights the step started from.
  virtual torch::Tensor step(StepContext& ctx) = 0;

  /// Called once before the first step of a stage; the default ignores it.
  virtual void begin_stage(const StageInputs& inputs);

  /// Saves the base optimizer's state and any state the algorithm keeps across steps.
  virtual void save(torch::serialize::OutputArchive& archive) const;
  virtual void load(torch::serialize::InputArchive& archive);

  const std::vector<torch::Tensor>& params() const { return params_; }

 protected:
  /// The base optimizer's update with the gradients now in .grad.
  void base_step();

  std::vector<torch::Tensor> params_;
  std::unique_ptr<torch::optim::Optimizer> base_;
};

using BaseOptimizerFactory =
    std::function<std::unique_ptr<torch::optim::Optimizer>(std::vector<torch::Tensor>, const Params&)>;
using BaseOptimizerRegistry = Registry<BaseOptimizerFactory>;
BaseOptimizerRegistry& base_optimizer_registry();

/// p holds the [optimizer] section: the variant's keys, the base's keys and "base".
using OptimizerFactory =
    std::function<std::unique_ptr<Optimizer>(std::vector<torch::Tensor>, const Params&)>;
using OptimizerRegistry = Registry<OptimizerFactory>;
OptimizerRegistry& optimizer_registry();

/// The base optimizer named by p.text("base"), built from p.
std::unique_ptr<torch::optim::Optimizer> make_base_optimizer(std::vector<torch::Tensor> params,
                                                             const Params& p);

/// The optimizer named by p.text("name").
std::unique_ptr<Optimizer> make_optimizer(std::vector<torch::Tensor> params, const Params& p);

/// Sum of squared entries over all tensors, as a double (for norms across parameters).
double squared_norm(const std::vector<torch::Tensor>& tensors);

/// The .grad of each parameter (zeros where none).
std::vector<torch::Tensor> gradients(const std::vector<torch::Tensor>& params);

/// params[i] += alpha · delta[i], without recording a graph.
void add_to(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& delta,
            double alpha = 1.0);

/// Copies of the parameters' values, and writing such copies back.
std::vector<torch::Tensor> snapshot(const std::vector<torch::Tensor>& params);
void restore(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& saved);

}  // namespace gda
