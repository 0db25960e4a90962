#pragma once
// The shape of a config file: its sections, the keys each always has, and which key
// chooses a registered component whose own keys join the section (data.name → a dataset's
// keys, optimizer.name → an optimizer's and its base's keys, …).
#include <functional>
#include <string>
#include <vector>

#include "core/params.h"

namespace gda {

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
  /// The rules over several of those keys (ParamRule), same arguments; unset = none.
  std::function<ParamRules(const std::string& chosen, const std::string& base)> component_rules;
};

const std::vector<SectionSchema>& config_schema();

}  // namespace gda
