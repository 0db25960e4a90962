#pragma once
// A name → factory table. Each component kind (dataset, shift generator, model,
// optimizer) has one registry; a component joins with one registration line in its own
// file, e.g.
//   static const bool registered = optimizer_registry().add({"sam", ..., make_sam});
// The accessors live in the shared library, so plugins loaded later add to the same table.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/params.h"

namespace gda {

template <class Factory>
struct RegistryEntry {
  std::string name;
  std::string summary;  ///< one line: what it is and where it comes from (paper, year)
  ParamSpecs params;    ///< the keys it reads from its config section
  Factory make;
  std::string cost;     ///< optimizers: passes per step, e.g. "2 fwd / 2 bwd"
  ParamRules rules;     ///< rules over several of its keys, checked by the config validator
};

template <class Factory>
class Registry {
 public:
  using Entry = RegistryEntry<Factory>;
  explicit Registry(std::string kind) : kind_(std::move(kind)) {}

  /// Adds an entry; a second entry with the same name is a user error (e.g. a plugin
  /// that registers a built-in name).
  bool add(Entry e) {
    if (entries_.count(e.name))
      throw UserError("a " + kind_ + " named '" + e.name +
                      "' is already registered; pick another name");
    std::string key = e.name;
    entries_.emplace(std::move(key), std::move(e));
    return true;
  }

  const Entry* find(const std::string& name) const {
    auto it = entries_.find(name);
    return it == entries_.end() ? nullptr : &it->second;
  }

  /// The entry, or a UserError listing the known names.
  const Entry& get(const std::string& name) const {
    if (auto e = find(name)) return *e;
    throw UserError("unknown " + kind_ + " '" + name + "'; known: " + names_text());
  }

  std::vector<const Entry*> all() const {
    std::vector<const Entry*> v;
    for (auto& [_, e] : entries_) v.push_back(&e);
    return v;
  }

  std::vector<std::string> names() const {
    std::vector<std::string> v;
    for (auto& [n, _] : entries_) v.push_back(n);
    return v;
  }

  std::string names_text() const {
    std::string s;
    for (auto& [n, _] : entries_) s += (s.empty() ? "" : ", ") + n;
    return s;
  }

  const std::string& kind() const { return kind_; }

 private:
  std::string kind_;
  std::map<std::string, Entry> entries_;
};

}  // namespace gda
