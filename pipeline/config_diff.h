#pragma once
// `gda diff A B`: how two experiments differ, key by key. A side is a config file (resolved:
// every default filled in, so a key left out and a key at its default read the same), a run
// folder (its config.resolved.toml, and the build and device its summary.json names) or a
// sweep folder (the resolved config of its first run, with each swept key shown as the
// values it takes).
#include <map>
#include <string>

namespace gda {

struct DiffSide {
  std::string path;
  std::map<std::string, std::string> keys;   ///< "section.key" ("seed" at the top) → value as TOML text
  std::map<std::string, std::string> build;  ///< runs only: gda, commit, libtorch, device, host
};

/// The side `path` names; a UserError when it is none of the three (naming what was looked for).
DiffSide diff_side(const std::string& path);

/// Every key whose values differ (or that one side lacks), grouped by section with both
/// values, then the build's differences; "" when the sides are equal.
std::string describe_difference(const DiffSide& a, const DiffSide& b);

}  // namespace gda
