#include "stages/optim/optimizer.h"

#include <torch/torch.h>

namespace gda {
namespace {

/// A base optimizer used plainly: one loss and gradient, one base step.
class Plain : public Optimizer {
 public:
  using Optimizer::Optimizer;
  torch::Tensor step(StepContext& ctx) override {
    auto loss = ctx.loss_and_grad();
    base_step();
    return loss;
  }
};

/// The entry of the base optimizer an [optimizer] section naming `name` over `base` uses.
const OptimizerRegistry::Entry& base_entry(const std::string& name, const std::string& base) {
  return optimizer_registry().get(is_base_optimizer(name) ? name : base);
}

}  // namespace

Optimizer::Optimizer(Tensors params, BaseOptimizer base)
    : params_(std::move(params)), base_(std::move(base)) {}

Optimizer::~Optimizer() = default;

void Optimizer::base_step() { base_->step(); }

double Optimizer::base_lr() const { return base_->param_groups().at(0).options().get_lr(); }

void Optimizer::begin_stage(const StageInputs&) {}

void Optimizer::save(torch::serialize::OutputArchive& archive) const {
  torch::serialize::OutputArchive base;
  base_->save(base);
  archive.write("base", base);
}

void Optimizer::load(torch::serialize::InputArchive& archive) {
  torch::serialize::InputArchive base;
  archive.read("base", base);
  base_->load(base);
}

void write_int(torch::serialize::OutputArchive& archive, const std::string& key, std::int64_t value) {
  archive.write(key, torch::scalar_tensor(value, torch::kInt64));
}

std::int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::Tensor t;
  archive.read(key, t);
  return t.item<std::int64_t>();
}

OptimizerRegistry& optimizer_registry() {
  static OptimizerRegistry r("optimizer");
  return r;
}

bool is_base_optimizer(const std::string& name) {
  const auto* e = optimizer_registry().find(name);
  return e && e->make.base;
}

std::vector<std::string> base_optimizer_names() {
  std::vector<std::string> names;
  for (const auto* e : optimizer_registry().all())
    if (e->make.base) names.push_back(e->name);
  return names;
}

ParamSpecs optimizer_keys(const std::string& name, const std::string& base) {
  ParamSpecs keys = base_entry(name, base).params;
  if (!is_base_optimizer(name))
    for (const auto& k : optimizer_registry().get(name).params) keys.push_back(k);
  return keys;
}

ParamRules optimizer_rules(const std::string& name, const std::string& base) {
  ParamRules rules = base_entry(name, base).rules;
  if (!is_base_optimizer(name))
    for (const auto& r : optimizer_registry().get(name).rules) rules.push_back(r);
  return rules;
}

std::unique_ptr<Optimizer> make_optimizer(Tensors params, const Params& p) {
  const std::string& name = p.text("name");
  const std::string& base_name = is_base_optimizer(name) ? name : p.text("base");
  if (auto broken = broken_rules(optimizer_rules(name, base_name), p, "optimizer"); !broken.empty())
    throw UserError(broken);
  auto base = base_entry(name, base_name).make.base(params, p);
  if (is_base_optimizer(name)) return std::make_unique<Plain>(std::move(params), std::move(base));
  return optimizer_registry().get(name).make.variant(std::move(params), std::move(base), p);
}

}  // namespace gda
