#pragma once
// The optimizer interface. An optimizer owns one training step: it asks the StepContext
// for losses and gradients as often as its algorithm needs, and finishes with a step of
// its base optimizer (SGD, Adam, AdamW from torch::optim) on the gradient it chose.
//
// One registry holds every name a config may give: the base optimizers (torch::optim
// wrappers, used plainly when named) and the variants over a base. make_optimizer builds
// the base once and hands it to the variant, so a variant never builds its own.
#include <torch/optim/optimizer.h>
#include <torch/serialize/archive.h>

#include <memory>
#include <string>

#include "core/registry.h"
#include "stages/optim/step_context.h"
#include "stages/optim/tensor_list.h"

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

using BaseOptimizer = std::unique_ptr<torch::optim::Optimizer>;

class Optimizer {
 public:
  Optimizer(Tensors params, BaseOptimizer base);
  virtual ~Optimizer();

  /// One step on the context's batch; returns the loss at the weights the step started from.
  virtual torch::Tensor step(StepContext& ctx) = 0;

  /// Called once before the first step of a stage; the default ignores it.
  virtual void begin_stage(const StageInputs& inputs);

  /// Saves the base optimizer's state and any state the algorithm keeps across steps.
  virtual void save(torch::serialize::OutputArchive& archive) const;
  virtual void load(torch::serialize::InputArchive& archive);

  const Tensors& params() const { return params_; }

 protected:
  /// The base optimizer's update with the gradients now in .grad.
  void base_step();
  /// The base optimizer's learning rate (of its first parameter group) now.
  double base_lr() const;

  Tensors params_;
  BaseOptimizer base_;
};

/// An optimizer whose settings are an options struct read from its config keys: the
/// constructor every variant would otherwise write. `o_` holds the options.
template <class Options>
class OptimizerWith : public Optimizer {
 public:
  OptimizerWith(Tensors params, BaseOptimizer base, Options options)
      : Optimizer(std::move(params), std::move(base)), o_(std::move(options)) {}

 protected:
  const Options o_;
};

/// An int64 kept in an archive, as a 0-d tensor (LibTorch 1.13 declares torch::optim::serialize
/// for int64_t but does not export it from its shared library).
void write_int(torch::serialize::OutputArchive& archive, const std::string& key, std::int64_t value);
std::int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key);

/// p holds the [optimizer] section: the variant's keys, the base's keys and "base".
using BaseOptimizerFactory = std::function<BaseOptimizer(Tensors params, const Params& p)>;
using VariantFactory =
    std::function<std::unique_ptr<Optimizer>(Tensors params, BaseOptimizer base, const Params& p)>;

/// How a registered optimizer is built: exactly one of the two is set. A base optimizer
/// builds a torch::optim optimizer (named in `name`, it is used plainly: one loss and
/// gradient, one base step); a variant gets the base that `base` names, already built.
struct OptimizerFactory {
  BaseOptimizerFactory base;
  VariantFactory variant;
};

using OptimizerRegistry = Registry<OptimizerFactory>;
OptimizerRegistry& optimizer_registry();

/// The registration of a base optimizer.
inline OptimizerFactory base_optimizer(BaseOptimizerFactory make) { return {std::move(make), {}}; }

/// The registration of variant V, built as V(params, base, read(p)).
template <class V, class Options>
OptimizerFactory variant(Options (*read)(const Params&)) {
  return {{}, [read](Tensors params, BaseOptimizer base, const Params& p) -> std::unique_ptr<Optimizer> {
            return std::make_unique<V>(std::move(params), std::move(base), read(p));
          }};
}

/// Whether `name` is a registered base optimizer, and all of them (what `base` may name).
bool is_base_optimizer(const std::string& name);
std::vector<std::string> base_optimizer_names();

/// The keys and the rules of an [optimizer] section naming `name` over `base`: the base's,
/// then the variant's (`base` is ignored when `name` is a base optimizer itself).
ParamSpecs optimizer_keys(const std::string& name, const std::string& base);
ParamRules optimizer_rules(const std::string& name, const std::string& base);

/// The optimizer named by p.text("name"), after checking p against its rules (a UserError
/// when broken: for Params built without the config validator).
std::unique_ptr<Optimizer> make_optimizer(Tensors params, const Params& p);

}  // namespace gda
