#include "pipeline/config.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <toml++/toml.h>

#include "core/hash.h"
#include "pipeline/config_schema.h"
#include "pipeline/toml_source.h"
#include "core/error.h"
#include "core/files.h"
#include "pipeline/plugins.h"
#include "stages/optim/optimizer.h"
#include "stages/shift/generator.h"

namespace gda {
namespace {

/// Where a value came from, for messages: "file:line:col" or "--set key=value".
using Origins = std::map<std::string, std::string>;

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1])});
      diag = up;
    }
  }
  return row[b.size()];
}

std::string suggestion(const std::string& word, const std::vector<std::string>& known) {
  std::string best;
  std::size_t d = 3;
  for (const auto& k : known)
    if (auto e = edit_distance(word, k); e < d) d = e, best = k;
  return best.empty() ? "" : fmt::format("did you mean \"{}\"? ", best);
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string toml_type_name(const toml::node& n) {
  std::ostringstream s;
  s << n.type();
  return s.str();
}

std::optional<Value> to_value(const toml::node& n) {
  if (auto v = n.as_boolean()) return Value(v->get());
  if (auto v = n.as_integer()) return Value(std::int64_t(v->get()));
  if (auto v = n.as_floating_point()) return Value(v->get());
  if (auto v = n.as_string()) return Value(v->get());
  return std::nullopt;
}

/// A list key's array, comma-joined (ParamSpec::list); integers are written out, so that
/// analysis.stages = [1, 5] reads as "1,5". nullopt for an item of another type or a comma.
std::optional<Value> list_value(const toml::array& a) {
  std::string joined;
  for (std::size_t i = 0; i < a.size(); ++i) {
    std::string item;
    if (auto s = a[i].value_exact<std::string>()) item = *s;
    else if (auto n = a[i].value_exact<std::int64_t>()) item = std::to_string(*n);
    else return std::nullopt;
    if (item.find(',') != std::string::npos) return std::nullopt;
    joined += (i ? "," : "") + item;
  }
  return Value(joined);
}

std::string dotted(const std::string& section, const std::string& key) {
  return section.empty() ? key : section + "." + key;
}

class Validator {
 public:
  Validator(std::string file, Origins origins) : file_(std::move(file)), origins_(std::move(origins)) {}

  Config run(toml::table& root) {
    Config c;
    std::vector<std::string> section_names;
    for (const auto& s : config_schema())
      if (!s.name.empty()) section_names.push_back(s.name);
    // Sections nobody declared.
    for (auto& [k, node] : root) {
      std::string key(k.str());
      if (node.is_table() && !is_section(key))
        error(origin(key, node), fmt::format("unknown section [{}]; {}sections are: {}", text_for_message(key),
                                             suggestion(key, section_names), joined(section_names)));
    }
    for (const auto& schema : config_schema()) {
      toml::table empty;
      toml::table* t = schema.name.empty() ? &root : root[schema.name].as_table();
      if (!t) {
        if (root.contains(schema.name))
          error(origin(schema.name, *root.get(schema.name)),
                fmt::format("{} must be a table ([{}])", schema.name, schema.name));
        t = &empty;
      }
      c.section(schema.name) = section(schema, *t);
    }
    if (errors_.empty()) check_domain_sizes(c);
    if (!errors_.empty()) throw UserError(errors_);
    return c;
  }

 private:
  bool is_section(const std::string& name) const {
    for (const auto& s : config_schema())
      if (s.name == name && !name.empty()) return true;
    return false;
  }

  std::string origin(const std::string& key, const toml::node& n) const {
    auto it = origins_.find(key);
    return it != origins_.end() ? it->second : where(file_, n);
  }

  void error(const std::string& at, const std::string& msg) {
    errors_ += (errors_.empty() ? "" : "\n") + at + ": " + msg;
  }

  /// The chosen component name, checked against the registry (or the default).
  std::string chosen(const SectionSchema& s, const toml::table& t, const std::string& key,
                     const std::vector<std::string>& names, std::string fallback) {
    const toml::node* n = t.get(key);
    if (!n) return fallback;
    auto str = n->value<std::string>();
    std::string full = dotted(s.name, key);
    if (!str) {
      error(origin(full, *n), fmt::format("{} must be a string naming one of: {}", full, joined(names)));
      return "";
    }
    for (const auto& name : names)
      if (name == *str) return *str;
    error(origin(full, *n), fmt::format("{}: unknown name \"{}\"; {}known: {}", full, text_for_message(*str),
                                        suggestion(*str, names), joined(names)));
    return "";
  }

  /// The component the section's chooser names and the one it builds on (the optimizer's
  /// base, a generator's endpoints), checked against their registries; nullopt when either
  /// is wrong (already reported).
  std::optional<std::pair<std::string, std::string>> component(const SectionSchema& s, const toml::table& t) {
    const std::string def = std::get<std::string>(s.keys.front().default_value);
    const std::string name = chosen(s, t, s.chooser, s.choices(), def);
    std::string base;  // the companion's name (SectionSchema::companion), if the chosen one has one
    if (!name.empty() && s.companion)
      if (const auto c = s.companion(name); !c.key.empty()) {
        base = chosen(s, t, c.key, c.choices(), c.fallback);
        if (base.empty()) return std::nullopt;  // already reported
      }
    if (name.empty()) return std::nullopt;
    return std::make_pair(name, base);
  }

  /// The node's value as its spec's type, checked against the spec; nullopt after reporting
  /// what is wrong.
  std::optional<Value> checked_value(const ParamSpec& spec, const toml::node& node, const std::string& full) {
    auto v = spec.list && node.is_array() ? list_value(*node.as_array()) : to_value(node);
    if (!v) {
      error(origin(full, node),
            spec.list ? fmt::format("{} must be an array of names or numbers without commas, e.g. {} = [\"{}\"]", full,
                                    full.substr(full.rfind('.') + 1), std::get<std::string>(spec.default_value))
                      : fmt::format("{} must be {} (got {})", full, with_article(value_type_name(spec.default_value)),
                                    with_article(toml_type_name(node))));
      return std::nullopt;
    }
    // An integer where a float is expected is fine (rho = 1).
    if (std::holds_alternative<double>(spec.default_value))
      if (auto i = std::get_if<std::int64_t>(&*v)) v = Value(double(*i));
    if (auto problem = spec.check(*v); !problem.empty()) {
      error(origin(full, node), full + " " + problem);
      return std::nullopt;
    }
    return v;
  }

  Params section(const SectionSchema& s, const toml::table& t) {
    ParamSpecs specs = s.keys;
    std::pair<std::string, std::string> chosen_component;
    if (!s.chooser.empty()) {
      auto c = component(s, t);
      if (!c) return Params::defaults(specs);  // already reported
      chosen_component = *c;
      for (auto& k : s.component_keys(c->first, c->second)) specs.push_back(k);
    }
    const auto& [chosen_name, chosen_base] = chosen_component;
    Params p = Params::defaults(specs);
    std::map<std::string, std::string> given;  // key → where the file (or --set) gave it
    std::vector<std::string> known;
    for (const auto& spec : specs) known.push_back(spec.name);
    for (const auto& [k, node] : t) {
      std::string key(k.str());
      // Sections, checked above ([[data]] as well: "data must be a table").
      if (s.name.empty() && (node.is_table() || (node.is_array_of_tables() && is_section(key)))) continue;
      std::string full = dotted(s.name, key);
      const ParamSpec* spec = nullptr;
      for (const auto& x : specs)
        if (x.name == key) spec = &x;
      if (!spec) {
        std::string owner =
            s.chooser.empty() ? "" : fmt::format(" for {} = \"{}\"", dotted(s.name, s.chooser), chosen_name);
        error(origin(full, node), fmt::format("unknown key {}; {}keys of [{}]{} are: {}", text_for_message(full),
                                              suggestion(key, known), s.name, owner, joined(known)));
        continue;
      }
      if (auto v = checked_value(*spec, node, full)) {
        p.set(key, *v);
        given[key] = origin(full, node);
      }
    }
    if (s.name == "optimizer" && is_base_optimizer(p.text("name"))) p.set("base", p.text("name"));
    check_rules(s, s.rules, p, given);
    if (!chosen_name.empty() && s.component_rules) check_rules(s, s.component_rules(chosen_name, chosen_base), p, given);
    return p;
  }

  /// Across sections: the generators cut the intermediate pool into T equal domains, and a
  /// domain needs 2 examples to train on (a batch of one is skipped). Found here, not after
  /// source training.
  void check_domain_sizes(const Config& c) {
    const std::int64_t T = c.section("shift").integer("T"), n = c.section("data").integer("intermediate_size");
    if (T > 0 && n / T < 2)
      error(file_, fmt::format("shift.T = {} cuts data.intermediate_size = {} examples into domains of {}; each needs "
                               "at least 2: lower shift.T or raise data.intermediate_size", T, n, n / T));
  }

  /// Rules over several keys, once every key has passed its own spec. The message names
  /// where the first of the rule's keys was given and every key with its value.
  void check_rules(const SectionSchema& s, const ParamRules& rules, const Params& p,
                   const std::map<std::string, std::string>& given) {
    for (const auto& rule : rules) {
      for (const auto& k : rule.keys)
        if (!p.has(k)) return;  // a key left out after an earlier error
      const std::string broken = broken_rules({rule}, p, s.name);
      if (broken.empty()) continue;
      std::string at = file_;
      for (const auto& k : rule.keys)
        if (auto it = given.find(k); it != given.end()) {
          at = it->second;
          break;
        }
      error(at, broken);
    }
  }

  std::string file_;
  Origins origins_;
  std::string errors_;
};

/// Applies "section.key=value" overrides to the parsed table; records their origin.
Origins apply_overrides(toml::table& root, const std::vector<std::string>& overrides) {
  Origins origins;
  for (const auto& o : overrides) {
    auto eq = o.find('=');
    if (eq == std::string::npos || eq == 0)
      throw UserError(fmt::format("--set {}: expected section.key=value, e.g. --set optimizer.rho=0.1", o));
    std::string path = o.substr(0, eq), text = o.substr(eq + 1);
    toml::table parsed;
    try {
      parsed = toml::parse("v = " + text);
    } catch (const toml::parse_error&) {
      parsed = toml::table{{"v", text}};  // a bare word: take it as a string
    }
    if (parsed.size() != 1)  // "0.5\nseed = 99": a second key would be dropped without a word
      throw UserError(fmt::format("--set {}: the value holds more than one TOML value (a newline?); give one key and "
                                  "one value per --set", text_for_message(o)));
    auto dot = path.find('.');
    std::string section = dot == std::string::npos ? "" : path.substr(0, dot);
    std::string key = dot == std::string::npos ? path : path.substr(dot + 1);
    toml::table* t = &root;
    if (!section.empty()) {
      if (!root.contains(section)) root.insert(section, toml::table{});
      t = root[section].as_table();
      if (!t) throw UserError(fmt::format("--set {}: {} is not a section", o, section));
    }
    t->insert_or_assign(key, *parsed.get("v"));
    origins[path] = "--set " + o;
  }
  return origins;
}

/// Takes the top-level `plugins` array out of the table and loads the libraries (paths
/// relative to the config file), so that what they register can be named in the config.
std::vector<std::string> take_plugins(toml::table& root, const std::string& name) {
  const toml::node* node = root.get("plugins");
  if (!node) return {};
  const auto* arr = node->as_array();
  std::vector<std::string> paths;
  const std::string usage = where(name, *node) + ": plugins must be an array of paths to shared libraries, "
                            "e.g. plugins = [\"build/libmyshift.so\"]";
  if (!arr) throw UserError(usage);
  const auto dir = std::filesystem::absolute(name).parent_path();
  for (const auto& e : *arr) {
    auto s = e.value<std::string>();
    if (!s) throw UserError(usage);
    std::filesystem::path p(*s);
    paths.push_back((p.is_absolute() ? p : dir / p).lexically_normal().string());
  }
  try {
    load_plugins(paths);
  } catch (const UserError& e) {
    throw UserError(where(name, *node) + ": " + e.what());
  }
  root.erase("plugins");
  return paths;
}

Config validate(toml::table root, const std::string& name, const std::vector<std::string>& overrides) {
  Origins origins = apply_overrides(root, overrides);
  std::vector<std::string> plugins = take_plugins(root, name);
  Config c = Validator(name, origins).run(root);
  c.plugins = std::move(plugins);
  return c;
}

}  // namespace

const Params& Config::section(const std::string& name) const {
  auto it = sections_.find(name);
  if (it == sections_.end()) throw std::logic_error("gda: no config section '" + name + "'");
  return it->second;
}

std::string Config::to_toml() const {
  toml::table root;
  auto put = [](toml::table& t, const std::string& k, const Value& v) {
    std::visit([&](const auto& x) { t.insert_or_assign(k, x); }, v);
  };
  for (const auto& [k, v] : section("").values()) put(root, k, v);
  if (!plugins.empty()) {
    toml::array paths;
    for (const auto& path : plugins) paths.push_back(path);
    root.insert_or_assign("plugins", std::move(paths));
  }
  for (const auto& [name, params] : sections_) {
    if (name.empty()) continue;
    toml::table t;
    for (const auto& [k, v] : params.values()) put(t, k, v);
    root.insert_or_assign(name, std::move(t));
  }
  std::ostringstream out;
  out << root << "\n";
  return out.str();
}

std::string Config::hash() const {
  return fmt::format("{:016x}", fnv1a(to_toml(), kGdaHashStart));
}

Config parse_config(const std::string& toml_text, const std::string& name,
                    const std::vector<std::string>& overrides) {
  return validate(parse_toml(toml_text, name), name, overrides);
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  Config c = parse_config(read_input_file(path, kMaxInputFileBytes, "config file"), path, overrides);
  c.file = path;
  c.dir = std::filesystem::absolute(path).parent_path().string();
  return c;
}

}  // namespace gda
