#pragma once
// A classifier split into an encoder (input → features) and a head (features → logits).
// Feature-space generators (optimal-transport paths) use encode(); the split also lets a
// training step run the encoder on parts of a batch in parallel.
#include <torch/nn/module.h>
#include <torch/types.h>

#include <functional>
#include <memory>

#include "core/registry.h"

namespace gda {

/// What a model factory needs to know about the data.
struct InputShape {
  std::vector<std::int64_t> sample;  ///< e.g. {1, 28, 28} or {54}
  std::int64_t classes = 10;
};

class Model : public torch::nn::Module {
 public:
  virtual torch::Tensor encode(const torch::Tensor& x) = 0;
  virtual torch::Tensor head(const torch::Tensor& features) = 0;
  torch::Tensor forward(const torch::Tensor& x) { return head(encode(x)); }
  /// Names of the submodules head() uses, and nothing else: what head_view() trains when a
  /// generator works in feature space. Empty (the default): the model has no separable head.
  virtual std::vector<std::string> head_modules() const { return {}; }

  /// Where the parameters live (the CPU for a model without any).
  c10::Device device() const;

  /// A new model of the same architecture with a copy of this one's parameters and
  /// buffers (BatchNorm statistics), in the same train/eval mode, on the same device.
  std::shared_ptr<Model> clone_model() const;
  /// clone_model() that leaves LibTorch's global CPU generator where it was: make_fresh draws
  /// initial weights from it, and the run's training draws after, so a copy made for analysis
  /// or a proxy model changes no number of the run. The generator's state is saved and put
  /// back, so call it on the thread that draws from it (the adapt node), not beside it.
  std::shared_ptr<Model> quiet_clone() const;
  /// Copies parameters and buffers from `other` (same architecture) into this model.
  void copy_state_from(const Model& other);

  /// Set by the factory: makes an untrained model of this architecture.
  std::function<std::shared_ptr<Model>()> make_fresh;
};

/// Puts a model in eval mode for its lifetime, then back in the mode it found (e.g. the
/// single-sample Fisher passes, which must not update BatchNorm statistics). A model already
/// in eval mode is not written to at all, so that threads may share a frozen snapshot
/// (evaluation of stage k and the analysis of stage k + 1, which reads it as its teacher).
class EvalMode {
 public:
  explicit EvalMode(Model& m) : model_(m), was_training_(m.is_training()) {
    if (was_training_) model_.eval();
  }
  ~EvalMode() {
    if (was_training_) model_.train(true);
  }
  EvalMode(const EvalMode&) = delete;
  EvalMode& operator=(const EvalMode&) = delete;

 private:
  Model& model_;
  bool was_training_;
};

using ModelPtr = std::shared_ptr<Model>;
using ModelFactory = std::function<ModelPtr(const Params&, const InputShape&)>;
using ModelRegistry = Registry<ModelFactory>;
ModelRegistry& model_registry();

/// Makes a model through the registry and wires its make_fresh.
ModelPtr make_model(const std::string& name, const Params& p, const InputShape& shape);

}  // namespace gda
