#pragma once
// Hyperparameters as data: every registered component (dataset, generator, model,
// optimizer) declares the keys it reads with a type, a default, a range and a doc line.
// The config loader validates user input against these specs, `gda list` prints them and
// docs/CONFIG.md is written from the same place.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gda {

using Value = std::variant<bool, std::int64_t, double, std::string>;

std::string value_type_name(const Value& v);
/// A noun with its article, for messages: "an integer", "a float", "an array".
std::string with_article(const std::string& noun);
std::string value_to_string(const Value& v);
/// `text` cut to 80 characters (and its length said) for an error message.
std::string text_for_message(const std::string& text);

/// What a key is part of, beyond its section (pipeline/config_schema.h, SectionSchema::part):
/// the identity of a run (its hash: whether an earlier sweep's finished run is this one) and
/// of its source model (whether runs share it). Most keys take their section's.
enum class Identity {
  section,          ///< as its section says
  run_only,         ///< the run's, never the source model's: it changes adaptation only (shift.T)
  none,             ///< neither: where a run runs, not what it computes (device)
  none_at_default,  ///< neither while at its default, else as its section: for a key added
                    ///< later, so that the hashes of runs made before it hold (deterministic)
};

struct ParamSpec {
  std::string name;
  Value default_value;
  std::string doc;
  std::optional<double> min, max;  // numeric bounds
  bool min_exclusive = false, max_exclusive = false;
  std::vector<std::string> choices;  // allowed strings; empty = any
  /// A list of strings: given as a TOML array (or one comma-separated string) and stored
  /// comma-joined, each item checked against `choices`.
  bool list = false;
  Identity identity = Identity::section;

  /// "" when v is acceptable, else what is wrong, e.g. "must be > 0 (got -0.1)".
  std::string check(const Value& v) const;
  std::string range_text() const;
};

// Short constructors so a spec list reads like a table.
ParamSpec real(std::string name, double def, std::string doc, std::optional<double> min = {},
               std::optional<double> max = {}, bool min_exclusive = false);
ParamSpec positive(std::string name, double def, std::string doc);
/// A real in [0, 1): a decay rate such as Adam's betas (1 would never forget; LibTorch refuses it).
ParamSpec decay_rate(std::string name, double def, std::string doc);
ParamSpec integer(std::string name, std::int64_t def, std::string doc,
                  std::optional<double> min = {}, std::optional<double> max = {});
ParamSpec flag(std::string name, bool def, std::string doc);
/// `spec` with its identity stated (Identity), for the keys that do not take their section's.
ParamSpec with_identity(Identity identity, ParamSpec spec);
ParamSpec text(std::string name, std::string def, std::string doc,
               std::vector<std::string> choices = {});

/// A list key (ParamSpec::list); `def` is comma-joined ("train,target").
ParamSpec text_list(std::string name, std::string def, std::string doc, std::vector<std::string> choices = {});
/// The items of a list key's stored value ("a,b" → {"a", "b"}; "" → {}).
std::vector<std::string> list_items(const std::string& joined);

using ParamSpecs = std::vector<ParamSpec>;

/// Resolved values of one config section, each key guaranteed to exist and to have
/// passed its spec's check. Reading a key no spec declared is a programming error.
class Params {
 public:
  Params() = default;
  void set(const std::string& key, Value v) { values_[key] = std::move(v); }
  bool has(const std::string& key) const { return values_.count(key) != 0; }
  double real(const std::string& key) const;
  std::int64_t integer(const std::string& key) const;
  bool flag(const std::string& key) const;
  const std::string& text(const std::string& key) const;
  const Value& value(const std::string& key) const;
  const std::map<std::string, Value>& values() const { return values_; }

  /// A Params holding every spec's default.
  static Params defaults(const ParamSpecs& specs);

 private:
  std::map<std::string, Value> values_;
};

/// A rule over several keys of one section, for what no single key's spec can say
/// (fmin ≤ fmax, nesterov needs momentum). Declared beside the specs of the component that
/// reads the keys and checked by the config validator, which names the file, line and every
/// key of the rule, before anything runs.
struct ParamRule {
  std::vector<std::string> keys;  ///< the keys involved, as named in the section
  /// "" when the values are fine, else what is wrong and how to fix it (without the keys'
  /// values: the validator prints those).
  std::function<std::string(const Params&)> check;
};

using ParamRules = std::vector<ParamRule>;

/// What is wrong with p under the rules, one line per broken rule: "keys: problem".
/// `section` prefixes the keys ("optimizer" → "optimizer.fmin"). For code that builds
/// Params without the validator (tests, benchmarks).
std::string broken_rules(const ParamRules& rules, const Params& p, const std::string& section);

}  // namespace gda
