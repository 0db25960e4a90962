#include "stages/models/head_view.h"

#include <torch/torch.h>

#include <stdexcept>

#include "core/error.h"

namespace gda {
namespace {

class HeadView : public Model {
 public:
  explicit HeadView(ModelPtr full) : full_(std::move(full)) {
    const auto names = full_->head_modules();
    if (names.empty())
      throw UserError("this model does not name its head modules (Model::head_modules), so it cannot be "
                      "trained in feature space; use model.name = \"cnn\" or \"mlp\", or override head_modules()");
    // The same module objects under the same names: the head's parameters and buffers are
    // shared with `full` and named as there, so copy_state_from works both ways.
    const auto children = full_->named_children();
    for (const auto& name : names) {
      // A name that is not a direct child would leave that module untrained and uncopied,
      // and a clone's head would run it with fresh random weights.
      if (!children.contains(name))
        throw UserError("Model::head_modules names \"" + name + "\", which is not a direct submodule of the model; "
                        "name the head's registered submodules");
      register_module(name, children[name]);
    }
    train(full_->is_training());
  }
  torch::Tensor encode(const torch::Tensor& features) override { return features; }
  torch::Tensor head(const torch::Tensor& features) override { return full_->head(features); }
  std::vector<std::string> head_modules() const override { return full_->head_modules(); }

 private:
  ModelPtr full_;
};

}  // namespace

ModelPtr head_view(const ModelPtr& full) {
  if (!full->make_fresh) throw std::logic_error("head_view: the model was not made by make_model (no make_fresh)");
  auto view = std::make_shared<HeadView>(full);
  // A fresh view wraps a fresh model of the same architecture (Model::clone_model uses it).
  auto fresh_full = full->make_fresh;
  view->make_fresh = [fresh_full]() -> ModelPtr {
    auto f = fresh_full();
    f->make_fresh = fresh_full;
    return head_view(f);
  };
  return view;
}

ModelPtr with_head(const Model& full, const Model& head) {
  auto m = full.clone_model();
  m->copy_state_from(head);  // head's parameters carry the full model's names
  return m;
}

}  // namespace gda
