#include "pipeline/config_schema.h"

#include <stdexcept>

#include "core/device.h"
#include "pipeline/config.h"
#include "stages/train/pseudo_label.h"
#include "stages/train/student.h"
#include "datasets/dataset.h"
#include "stages/analysis/analysis.h"
#include "stages/models/model.h"
#include "stages/optim/optimizer.h"
#include "stages/shift/generator.h"

namespace gda {
namespace {

/// The default of the text key `name` among `specs`: a companion's fallback is its key's own
/// default, never a second copy of it.
std::string default_text(const ParamSpecs& specs, const std::string& name) {
  for (const auto& spec : specs)
    if (spec.name == name) return std::get<std::string>(spec.default_value);
  throw std::logic_error("gda: no key '" + name + "' among a component's keys");
}

/// A section's part that does not depend on the config.
std::function<Part(const Config&)> always(Part part) {
  return [part](const Config&) { return part; };
}

template <class R>
SectionSchema component_section(std::string name, std::string doc, ParamSpecs keys,
                                 std::string chooser, R& (*registry)()) {
  SectionSchema s{std::move(name), std::move(doc), std::move(keys), std::move(chooser)};
  s.part = always(Part::run_and_source);  // the data, the model and the shift make the source domain
  s.choices = [registry] { return registry().names(); };
  s.component_keys = [registry](const std::string& chosen, const std::string&) {
    return registry().get(chosen).params;
  };
  s.component_rules = [registry](const std::string& chosen, const std::string&) {
    return registry().get(chosen).rules;
  };
  return s;
}

// Upper bounds keep every count within what the code's int arithmetic and memory can hold,
// so a typo of a few digits is refused here instead of overflowing or allocating without end.
constexpr double kMaxEpochs = 1e5, kMaxBatch = 1 << 20, kMaxSamples = 1e9, kMaxDomains = 1e4;

SectionSchema top_level_section() {
  SectionSchema s{"", "top-level keys",
                  {integer("seed", 0, "seed of every random draw of the run (data order, angles, init, dropout)", 0),
                   integer("threads", 2, "threads for the run: LibTorch intra-op threads and the TBB arena", 1, 256),
                   // Where a run runs is not which run it is: summary.json records the device, and a
                   // sweep resumed on another machine keeps its finished runs.
                   with_identity(Identity::none,
                                 text("device", "auto",
                                      "where models and domains live: \"auto\" (the first GPU when LibTorch sees "
                                      "one, else the CPU), \"cpu\", \"cuda\" or \"cuda:N\"; OpenCV's image shifts "
                                      "and the exact OT solver run on the CPU either way")),
                   with_identity(Identity::none_at_default,
                                 flag("deterministic", true,
                                      "same config, seed and device give the same numbers (cuDNN's deterministic "
                                      "algorithms without benchmark mode); false lets CUDA pick faster, varying "
                                      "ones. CPU and CUDA numbers differ in the last bits either way")),
                   with_identity(Identity::none_at_default,
                                 flag("tf32", false,
                                      "CUDA only: let float32 convolutions and matrix products use TF32 tensor "
                                      "cores (a 10-bit mantissa: faster on large batches, less precise); false "
                                      "computes in float32 as the CPU does"))},
                  ""};
  s.part = always(Part::run_and_source);  // the seed and the threads shape source training
  s.rules = {{{"device"}, [](const Params& p) { return device_problem(p.text("device")); }}};
  return s;
}

SectionSchema data_section() {
  return component_section(
      "data", "the dataset and how its shuffled examples are cut into source, intermediate pool and target",
      {text("name", "mnist", "registered dataset (gda list datasets)"),
       integer("source_size", 2000, "labelled source examples (the first ones after shuffling; a batch needs 2)", 2,
               kMaxSamples),
       integer("intermediate_size", 7000, "examples the intermediate domains are made from (the next ones)", 0,
               kMaxSamples),
       integer("target_size", 1000, "target examples (the last ones; a batch needs 2)", 2, kMaxSamples),
       flag("shuffle", true,
            "shuffle before cutting; false keeps the dataset's order (sorted CSV, domain folders: the order "
            "is the shift; use shift.generator = \"ordered\")")},
      "name", &dataset_registry);
}

/// The generator's keys and rules, and those of the generator it takes its endpoints from.
SectionSchema shift_section() {
  SectionSchema s = component_section(
      "shift", "how the intermediate and target domains are made",
      {text("generator", "rotation", "registered shift generator (gda list generators)"),
       // The source domain is position 0 of any schedule: runs of every T share a source model.
       with_identity(Identity::run_only,
                     integer("T", 10, "number of intermediate domains; 0 = zero-shot (no adaptation)", 0,
                             kMaxDomains))},
      "generator", &generator_registry);
  auto with_endpoints = [](const std::string& chosen, const std::string& endpoints) {
    std::vector<const GeneratorRegistry::Entry*> entries = {&generator_registry().get(chosen)};
    if (composes_endpoints(chosen) && endpoints != chosen && generator_registry().find(endpoints))
      entries.push_back(&generator_registry().get(endpoints));
    return entries;
  };
  // A generator that mixes two others' domains (interpolation) takes the keys of the
  // generator it names as shift.endpoints too.
  s.companion = [](const std::string& chosen) {
    if (!composes_endpoints(chosen)) return SectionSchema::Companion{};
    return SectionSchema::Companion{"endpoints", [] { return generator_registry().names(); },
                                    default_text(generator_registry().get(chosen).params, "endpoints")};
  };
  s.component_keys = [with_endpoints](const std::string& chosen, const std::string& endpoints) {
    ParamSpecs keys;
    for (const auto* e : with_endpoints(chosen, endpoints)) keys.insert(keys.end(), e->params.begin(), e->params.end());
    return keys;
  };
  s.component_rules = [with_endpoints](const std::string& chosen, const std::string& endpoints) {
    ParamRules rules;
    for (const auto* e : with_endpoints(chosen, endpoints)) rules.insert(rules.end(), e->rules.begin(), e->rules.end());
    return rules;
  };
  return s;
}

SectionSchema source_section() {
  SectionSchema s{"source", "supervised training on the labelled source domain",
          {integer("epochs", 10, "epochs on the source domain", 0, kMaxEpochs),
           integer("batch_size", 128, "minibatch size", 2, kMaxBatch),
           text("optimizer", "adam",
                "optimizer of source training: a base optimizer (adam, adamw, sgd) with the "
                "lr and weight_decay below and its other defaults, so every [optimizer] under "
                "study starts from the same source model; or \"same\": the full [optimizer] section",
                {"adam", "adamw", "sgd", "same"}),
           positive("lr", 1e-3, "learning rate of source training (unless optimizer = \"same\")"),
           real("weight_decay", 1e-4, "weight decay of source training (unless optimizer = \"same\")", 0.0)},
          ""};
  s.part = always(Part::run_and_source);
  return s;
}

SectionSchema adaptation_section() {
  SectionSchema s{"adaptation", "gradual self-training through the intermediate domains, then the target",
                  {integer("epochs", 5, "epochs of the student on each domain's pseudo-labels", 0, kMaxEpochs),
                   integer("batch_size", 128, "minibatch size", 2, kMaxBatch),
                   real("drop_fraction", 0.1,
                        "fraction of least-confident pseudo-labels dropped (confidence: see `confidence`)", 0.0,
                        1.0),
                   with_identity(Identity::none_at_default,
                                 confidence_choice().spec(
                                     "confidence", Confidence::logit_range,
                                     "what ranks pseudo-labels for the cut: \"logit_range\" (max - min logit: GOAT, "
                                     "Schapiro and Zhao) or \"probability_range\" (max - min softmax probability: "
                                     "Kumar et al.'s Keras code)")),
                   with_identity(Identity::none_at_default,
                                 schedule_choice().spec(
                                     "schedule", Schedule::gradual,
                                     "\"gradual\": a stage per domain of the path, in order; baselines: \"source_only\" "
                                     "(no stage after the source), \"direct\" (self-train on the target, `rounds` "
                                     "times), \"pooled\" (on every unlabelled domain at once, `rounds` times)")),
                   with_identity(Identity::none_at_default,
                                 student_choice().spec(
                                     "student", Student::copy,
                                     "who trains at each stage: \"copy\" (a copy of the teacher, a fresh optimizer "
                                     "each stage), \"continue\" (the teacher itself trains on, its optimizer state "
                                     "kept across stages: Kumar et al.'s code), \"fresh_each_epoch\" (a copy, the "
                                     "optimizer made anew every epoch: Schapiro and Zhao's code)")),
                   with_identity(Identity::none_at_default,
                                 integer("rounds", 20,
                                         "stages of schedules direct and pooled, each on the same data (Kumar et "
                                         "al.'s repeats)",
                                         1, 1000))},
                  ""};
  s.keys[2].max_exclusive = true;  // drop_fraction < 1
  s.part = always(Part::run);
  return s;
}

SectionSchema optimizer_section() {
  SectionSchema s{"optimizer", "the optimizer under study, at every adaptation stage",
                  {text("name", "adam", "registered optimizer (gda list optimizers)"),
                   text("base", "adam",
                        "base optimizer of a sharpness-aware variant: sgd, adam or adamw "
                        "(ignored when name is itself a base optimizer)")},
                  "name"};
  s.choices = [] { return optimizer_registry().names(); };
  s.companion = [fallback = default_text(s.keys, "base")](const std::string&) {
    return SectionSchema::Companion{"base", base_optimizer_names, fallback};
  };
  s.component_keys = optimizer_keys;
  s.component_rules = optimizer_rules;
  // Source training uses the optimizer under study only when told to: otherwise every
  // optimizer of a sweep starts from the same source model.
  s.part = [](const Config& c) {
    return c.section("source").text("optimizer") == "same" ? Part::run_and_source : Part::run;
  };
  return s;
}

SectionSchema evaluation_section() {
  SectionSchema s{"evaluation", "what is measured after every stage",
          {evaluated_domains_choice().spec("domains", EvaluatedDomains::all,
                "\"all\": accuracy on source, every intermediate domain and target; "
                "\"target\": target only (what the public GDA code measures)"),
           integer("batch_size", 1000, "inference batch size", 1, kMaxBatch)},
          ""};
  s.part = always(Part::run);
  return s;
}

SectionSchema analysis_section() {
  SectionSchema s{"analysis",
                  "measurements of the stages' models beside evaluation: sharpness and representation similarity "
                  "(docs/ANALYSIS.md); off unless stages names some",
                  analysis_keys(), ""};
  s.rules = analysis_rules();
  // Off, it is part of nothing (so runs from before [analysis] existed keep their hashes);
  // on, its measurements are part of what a run gives.
  s.part = [](const Config& c) {
    return c.section("analysis").text("stages") == "none" ? Part::neither : Part::run;
  };
  return s;
}

SectionSchema output_section() {
  SectionSchema s{"output", "where results go",
                  {text("dir", "runs", "parent directory of run directories (relative to the working directory)"),
                   text("name", "", "run directory name (one folder inside dir); empty = <config file stem>-seed<seed>")},
                  ""};
  s.rules = {{{"name"}, [](const Params& p) {
                const std::string& n = p.text("name");
                if (n.find('/') != std::string::npos || n == "." || n == "..")
                  return std::string("the run directory must be one folder inside output.dir, not a path; "
                                     "use output.dir for where it goes, or --out DIR");
                return std::string();
              }}};
  s.part = always(Part::neither);  // where results go changes no number
  return s;
}

SectionSchema model_section() {
  return component_section("model", "the classifier", {text("name", "cnn", "registered model (gda list models)")},
                           "name", &model_registry);
}

/// The sections in the order docs/CONFIG.md lists them.
std::vector<SectionSchema> make_schema() {
  return {top_level_section(), data_section(),      shift_section(),      model_section(), source_section(),
          adaptation_section(), optimizer_section(), evaluation_section(), analysis_section(), output_section()};
}

}  // namespace

const Choice<Schedule>& schedule_choice() {
  static const Choice<Schedule> choice{{"gradual", Schedule::gradual},
                                       {"source_only", Schedule::source_only},
                                       {"direct", Schedule::direct},
                                       {"pooled", Schedule::pooled}};
  return choice;
}

const Choice<EvaluatedDomains>& evaluated_domains_choice() {
  static const Choice<EvaluatedDomains> choice{{"all", EvaluatedDomains::all}, {"target", EvaluatedDomains::target}};
  return choice;
}

const std::vector<SectionSchema>& config_schema() {
  static const std::vector<SectionSchema> s = make_schema();
  return s;
}

Part part_of(const Config& c, const std::string& section, const std::string& key) {
  for (const auto& s : config_schema()) {
    if (s.name != section) continue;
    const Part part = s.part(c);
    for (const auto& spec : s.keys) {
      if (spec.name != key) continue;
      switch (spec.identity) {
        case Identity::section: return part;
        case Identity::run_only: return part == Part::neither ? part : Part::run;
        case Identity::none: return Part::neither;
        case Identity::none_at_default: return c.section(section).value(key) == spec.default_value ? Part::neither : part;
      }
    }
    return part;  // a component's key
  }
  throw std::logic_error("gda: no config section '" + section + "'");
}

}  // namespace gda
