#pragma once
// A run's configuration: the TOML file, validated against config_schema(), with command-
// line overrides applied and every default filled in.
#include <map>
#include <string>
#include <vector>

#include "core/params.h"

namespace gda {

class Config {
 public:
  /// Values of one section ("" = the top-level keys). Every declared key is present.
  const Params& section(const std::string& name) const;
  Params& section(const std::string& name) { return sections_[name]; }

  /// The file it came from ("" when parsed from text) and the directory relative data
  /// paths are resolved against.
  std::string file;
  std::string dir;
  /// Plugin libraries the config loaded (absolute paths), kept so to_toml() reloads them.
  std::vector<std::string> plugins;

  /// The resolved config as TOML (defaults filled in, overrides applied).
  std::string to_toml() const;
  /// A short stable hash of to_toml().
  std::string hash() const;

  const std::map<std::string, Params>& sections() const { return sections_; }

 private:
  std::map<std::string, Params> sections_;
};

/// Reads and validates a config file. overrides are "section.key=value" strings (value in
/// TOML syntax; a bare word is taken as a string). Throws UserError with one line per
/// problem, each naming file:line:column (or the override) and the key.
Config load_config(const std::string& path, const std::vector<std::string>& overrides = {});

/// The same from TOML text; `name` stands for the file name in messages.
Config parse_config(const std::string& toml_text, const std::string& name,
                    const std::vector<std::string>& overrides = {});

}  // namespace gda
