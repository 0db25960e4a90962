#pragma once
// The shape of a config file: its sections, the keys each always has, and which key
// chooses a registered component whose own keys join the section (data.name → a dataset's
// keys, optimizer.name → an optimizer's and its base's keys, …).
#include <functional>
#include <string>
#include <vector>

#include "core/choice.h"
#include "core/params.h"

namespace gda {

class Config;

/// Which domains evaluation measures after every stage (evaluation.domains).
enum class EvaluatedDomains { all, target };
const Choice<EvaluatedDomains>& evaluated_domains_choice();

/// What adaptation trains on after the source (adaptation.schedule): the path's domains in
/// order (gradual self-training), or one of the baselines every GDA table has: nothing
/// (source only), the target again and again (direct; Kumar et al.'s "target ST"), or every
/// unlabelled domain pooled at once, again and again (pooled; "all ST").
enum class Schedule { gradual, source_only, direct, pooled };
const Choice<Schedule>& schedule_choice();

/// Which hashes a section's keys go into (pipeline/sweep/plan.h's run_hash and source_hash).
enum class Part {
  run_and_source,  ///< what source training and every stage after depend on ([data], [model])
  run,             ///< what only adaptation and its measuring depend on ([adaptation])
  neither,         ///< where results go, not what they are ([output])
};

struct SectionSchema {
  std::string name;  ///< "" for the top-level keys
  std::string doc;
  ParamSpecs keys;   ///< keys every such section has (including the chooser)
  std::string chooser;  ///< key naming a registered component, or ""
  /// Names the chooser may take.
  std::function<std::vector<std::string>()> choices;
  /// The component's own keys, given the section's values of the chooser (and, for the
  /// optimizer, of "base"): called only with valid names.
  std::function<ParamSpecs(const std::string& chosen, const std::string& base)> component_keys;
  /// Rules over the section's own keys (those every such section has).
  ParamRules rules;
  /// The companion of a chosen component: the key naming the component it builds on (the
  /// optimizer's "base", an interpolating generator's "endpoints"), whose keys join too.
  struct Companion {
    std::string key;                                        ///< "" when the chosen one has none
    std::function<std::vector<std::string>()> choices;      ///< names the key may take
    std::string fallback;                                   ///< when the key is not given: its spec's default
  };
  /// The companion of the chosen name (unset: no component of the section has one).
  std::function<Companion(const std::string& chosen)> companion;
  /// The rules over several of those keys (ParamRule), same arguments; unset = none.
  std::function<ParamRules(const std::string& chosen, const std::string& base)> component_rules;
  /// What the section's keys are part of, given the whole config: a function, because for
  /// some it depends on a value ([optimizer] shapes the source model only when
  /// source.optimizer = "same"; [analysis] is part of nothing while it is off). A key of
  /// `keys` may say otherwise (ParamSpec::identity); a component's keys take the section's.
  std::function<Part(const Config&)> part;
};

const std::vector<SectionSchema>& config_schema();

/// What `section.key` of config `c` is part of: its spec's Identity over its section's part.
Part part_of(const Config& c, const std::string& section, const std::string& key);

}  // namespace gda
