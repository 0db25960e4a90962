#include "pipeline/config_schema.h"

#include "datasets/dataset.h"
#include "stages/models/model.h"
#include "stages/optim/optimizer.h"
#include "stages/shift/generator.h"

namespace gda {
namespace {

template <class R>
SectionSchema component_section(std::string name, std::string doc, ParamSpecs keys,
                                 std::string chooser, R& (*registry)()) {
  SectionSchema s{std::move(name), std::move(doc), std::move(keys), std::move(chooser)};
  s.choices = [registry] { return registry().names(); };
  s.component_keys = [registry](const std::string& chosen, const std::string&) {
    return registry().get(chosen).params;
  };
  s.component_rules = [registry](const std::string& chosen, const std::string&) {
    return registry().get(chosen).rules;
  };
  return s;
}

std::vector<SectionSchema> make_schema() {
  std::vector<SectionSchema> s;
  s.push_back({"", "top-level keys",
               {integer("seed", 0, "seed of every random draw of the run (data order, angles, init, dropout)", 0),
                integer("threads", 2, "threads for the run: LibTorch intra-op threads and the TBB arena", 1, 256)},
               ""});
  s.push_back(component_section(
      "data", "the dataset and how its shuffled examples are cut into source, intermediate pool and target",
      {text("name", "mnist", "registered dataset (gda list datasets)"),
       integer("source_size", 2000, "labelled source examples (the first ones after shuffling)", 1),
       integer("intermediate_size", 7000, "examples the intermediate domains are made from (the next ones)", 0),
       integer("target_size", 1000, "target examples (the last ones)", 1),
       flag("shuffle", true,
            "shuffle before cutting; false keeps the dataset's order (sorted CSV, domain folders: the order "
            "is the shift; use shift.generator = \"ordered\")")},
      "name", &dataset_registry));
  s.push_back(component_section(
      "shift", "how the intermediate and target domains are made",
      {text("generator", "rotation", "registered shift generator (gda list generators)"),
       integer("T", 10, "number of intermediate domains; 0 = zero-shot (no adaptation)", 0)},
      "generator", &generator_registry));
  s.back().component_keys = [](const std::string& chosen, const std::string& endpoints) {
    ParamSpecs keys = generator_registry().get(chosen).params;
    if (composes_endpoints(chosen) && endpoints != chosen && generator_registry().find(endpoints))
      for (const auto& k : generator_registry().get(endpoints).params) keys.push_back(k);
    return keys;
  };
  s.back().component_rules = [](const std::string& chosen, const std::string& endpoints) {
    ParamRules rules = generator_registry().get(chosen).rules;
    if (composes_endpoints(chosen) && endpoints != chosen && generator_registry().find(endpoints))
      for (const auto& r : generator_registry().get(endpoints).rules) rules.push_back(r);
    return rules;
  };
  s.push_back(component_section("model", "the classifier",
                                {text("name", "cnn", "registered model (gda list models)")}, "name",
                                &model_registry));
  s.push_back({"source", "supervised training on the labelled source domain",
               {integer("epochs", 10, "epochs on the source domain", 0),
                integer("batch_size", 128, "minibatch size", 2),
                text("optimizer", "adam",
                     "optimizer of source training: a base optimizer (adam, adamw, sgd) with the "
                     "lr and weight_decay below and its other defaults, so every [optimizer] under "
                     "study starts from the same source model; or \"same\": the full [optimizer] section",
                     {"adam", "adamw", "sgd", "same"}),
                positive("lr", 1e-3, "learning rate of source training (unless optimizer = \"same\")"),
                real("weight_decay", 1e-4, "weight decay of source training (unless optimizer = \"same\")", 0.0)},
               ""});
  s.push_back({"adaptation", "gradual self-training through the intermediate domains, then the target",
               {integer("epochs", 5, "epochs of the student on each domain's pseudo-labels", 0),
                integer("batch_size", 128, "minibatch size", 2),
                real("drop_fraction", 0.1,
                     "fraction of least-confident pseudo-labels dropped (confidence = max logit - min logit)",
                     0.0, 1.0)},
               ""});
  s.back().keys.back().max_exclusive = true;
  SectionSchema opt{"optimizer", "the optimizer under study, at every adaptation stage",
                    {text("name", "adam", "registered optimizer (gda list optimizers)"),
                     text("base", "adam",
                          "base optimizer of a sharpness-aware variant: sgd, adam or adamw "
                          "(ignored when name is itself a base optimizer)")},
                    "name"};
  opt.choices = [] { return optimizer_registry().names(); };
  opt.component_keys = optimizer_keys;
  opt.component_rules = optimizer_rules;
  s.push_back(opt);
  s.push_back({"evaluation", "what is measured after every stage",
               {text("domains", "all",
                     "\"all\": accuracy on source, every intermediate domain and target; "
                     "\"target\": target only (what the public GDA code measures)",
                     {"all", "target"}),
                integer("batch_size", 1000, "inference batch size", 1)},
               ""});
  s.push_back({"output", "where results go",
               {text("dir", "runs", "parent directory of run directories (relative to the working directory)"),
                text("name", "", "run directory name; empty = <config file stem>-seed<seed>")},
               ""});
  return s;
}

}  // namespace

const std::vector<SectionSchema>& config_schema() {
  static const std::vector<SectionSchema> s = make_schema();
  return s;
}

}  // namespace gda
