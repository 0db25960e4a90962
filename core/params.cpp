#include "core/params.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace gda {

std::string value_type_name(const Value& v) {
  switch (v.index()) {
    case 0: return "boolean";
    case 1: return "integer";
    case 2: return "float";
    default: return "string";
  }
}

std::string value_to_string(const Value& v) {
  if (auto b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (auto i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (auto d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  return "\"" + std::get<std::string>(v) + "\"";
}

std::string text_for_message(const std::string& text) {
  // A value pasted by mistake (a file's contents, megabytes long) must not flood the message.
  constexpr std::size_t kLongest = 80;
  if (text.size() <= kLongest) return text;
  return text.substr(0, kLongest) + fmt::format("… ({} characters)", text.size());
}

namespace {

/// value_to_string cut to a length fit for an error message.
std::string value_for_message(const Value& v) { return text_for_message(value_to_string(v)); }

}  // namespace

std::string ParamSpec::range_text() const {
  if (list) {
    std::string s = "an array";
    if (!choices.empty()) s += " of";
    for (auto& c : choices) s += " \"" + c + "\"";
    return s;
  }
  if (!choices.empty()) {
    std::string s = "one of";
    for (auto& c : choices) s += " \"" + c + "\"";
    return s;
  }
  std::string s;
  if (min) s += fmt::format("{} {}", min_exclusive ? ">" : ">=", *min);
  if (max) s += fmt::format("{}{} {}", s.empty() ? "" : " and ", max_exclusive ? "<" : "<=", *max);
  return s;
}

std::string with_article(const std::string& noun) {
  return (noun.find_first_of("aeiou") == 0 ? "an " : "a ") + noun;
}

std::string ParamSpec::check(const Value& v) const {
  if (v.index() != default_value.index())
    return fmt::format("must be {} (got {} {})", with_article(value_type_name(default_value)),
                       value_type_name(v), value_for_message(v));
  if (list) {
    const auto items = list_items(std::get<std::string>(v));
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (items[i].empty()) return fmt::format("must not hold an empty item (got {})", value_for_message(v));
      if (std::find(items.begin(), items.begin() + i, items[i]) != items.begin() + i)
        return fmt::format("names \"{}\" twice", items[i]);
      if (!choices.empty() && std::find(choices.begin(), choices.end(), items[i]) == choices.end())
        return fmt::format("must be {} (got \"{}\")", range_text(), items[i]);
    }
    return "";
  }
  if (!choices.empty()) {
    const auto& s = std::get<std::string>(v);
    for (auto& c : choices)
      if (c == s) return "";
    return fmt::format("must be {} (got {})", range_text(), value_for_message(v));
  }
  double x;
  if (auto i = std::get_if<std::int64_t>(&v)) x = double(*i);
  else if (auto d = std::get_if<double>(&v)) x = *d;
  else return "";
  // TOML allows nan and inf; no key of gda means anything by them (an angle of nan would
  // rotate every image into NaNs), so they are refused here, once for every key.
  if (!std::isfinite(x)) return fmt::format("must be a finite number (got {})", value_for_message(v));
  // Training computes in 32-bit floats, and LibTorch refuses a scalar they cannot hold.
  if (std::holds_alternative<double>(v) && std::abs(x) > double(std::numeric_limits<float>::max()))
    return fmt::format("must fit a 32-bit float, the precision training computes in (|value| <= 3.4e38; got {})",
                       value_for_message(v));
  bool low = min && (min_exclusive ? !(x > *min) : !(x >= *min));
  bool high = max && (max_exclusive ? !(x < *max) : !(x <= *max));
  if (low || high) return fmt::format("must be {} (got {})", range_text(), value_for_message(v));
  return "";
}

ParamSpec real(std::string name, double def, std::string doc, std::optional<double> min,
               std::optional<double> max, bool min_exclusive) {
  ParamSpec s{std::move(name), def, std::move(doc), min, max};
  s.min_exclusive = min_exclusive;
  return s;
}
ParamSpec positive(std::string name, double def, std::string doc) {
  return real(std::move(name), def, std::move(doc), 0.0, std::nullopt, true);
}
ParamSpec decay_rate(std::string name, double def, std::string doc) {
  ParamSpec s = real(std::move(name), def, std::move(doc), 0.0, 1.0);
  s.max_exclusive = true;
  return s;
}
ParamSpec integer(std::string name, std::int64_t def, std::string doc, std::optional<double> min,
                  std::optional<double> max) {
  return ParamSpec{std::move(name), def, std::move(doc), min, max};
}
ParamSpec flag(std::string name, bool def, std::string doc) {
  return ParamSpec{std::move(name), def, std::move(doc)};
}
ParamSpec with_identity(Identity identity, ParamSpec spec) {
  spec.identity = identity;
  return spec;
}
ParamSpec text(std::string name, std::string def, std::string doc,
               std::vector<std::string> choices) {
  ParamSpec s{std::move(name), std::move(def), std::move(doc)};
  s.choices = std::move(choices);
  return s;
}

ParamSpec text_list(std::string name, std::string def, std::string doc, std::vector<std::string> choices) {
  ParamSpec s = text(std::move(name), std::move(def), std::move(doc), std::move(choices));
  s.list = true;
  return s;
}

std::vector<std::string> list_items(const std::string& joined) {
  std::vector<std::string> items;
  if (joined.empty()) return items;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = joined.find(',', start);
    std::string item = joined.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const auto first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
    items.push_back(first == std::string::npos ? "" : item.substr(first, last - first + 1));
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

const Value& Params::value(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw std::logic_error("gda: no parameter '" + key + "' was declared");
  return it->second;
}
double Params::real(const std::string& key) const {
  const Value& v = value(key);
  if (auto i = std::get_if<std::int64_t>(&v)) return double(*i);
  return std::get<double>(v);
}
std::int64_t Params::integer(const std::string& key) const { return std::get<std::int64_t>(value(key)); }
bool Params::flag(const std::string& key) const { return std::get<bool>(value(key)); }
const std::string& Params::text(const std::string& key) const {
  return std::get<std::string>(value(key));
}

Params Params::defaults(const ParamSpecs& specs) {
  Params p;
  for (auto& s : specs) p.set(s.name, s.default_value);
  return p;
}

std::string broken_rules(const ParamRules& rules, const Params& p, const std::string& section) {
  std::string out;
  for (const auto& rule : rules) {
    const std::string problem = rule.check(p);
    if (problem.empty()) continue;
    std::string keys;
    for (const auto& k : rule.keys)
      keys += (keys.empty() ? "" : " and ") + (section.empty() ? k : section + "." + k) + " = " +
              value_for_message(p.value(k));
    out += (out.empty() ? "" : "\n") + keys + ": " + problem;
  }
  return out;
}

}  // namespace gda
