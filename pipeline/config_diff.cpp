#include "pipeline/config_diff.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/files.h"
#include "pipeline/config.h"
#include "pipeline/sweep/job.h"
#include "pipeline/toml_source.h"

namespace gda {
namespace {

namespace fs = std::filesystem;

/// A value as a config would spell it: strings in double quotes (as sweep points are),
/// floats in their shortest exact form, arrays as TOML writes them.
std::string toml_text(const toml::node& node) {
  if (const auto* s = node.as_string()) {
    std::string quoted = "\"";
    for (const char c : s->get()) quoted += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
    return quoted + "\"";
  }
  if (const auto* f = node.as_floating_point()) return fmt::format("{}", f->get());
  if (const auto* i = node.as_integer()) return std::to_string(i->get());
  if (const auto* b = node.as_boolean()) return b->get() ? "true" : "false";
  toml::table one;
  one.insert("v", node);
  std::ostringstream out;
  out << one;
  const std::string line = out.str();  // "v = …"
  return line.substr(line.find('=') + 2);
}

/// Every key of a resolved config's TOML as "section.key" (top-level keys bare).
std::map<std::string, std::string> flat_keys(const std::string& toml_text_of_config, const std::string& file) {
  std::map<std::string, std::string> keys;
  const toml::table root = parse_toml(toml_text_of_config, file);
  for (const auto& [k, node] : root) {
    if (const auto* section = node.as_table()) {
      for (const auto& [key, value] : *section) keys[std::string(k.str()) + "." + std::string(key.str())] = toml_text(value);
    } else {
      keys[std::string(k.str())] = toml_text(node);
    }
  }
  return keys;
}

/// The build and device summary.json names ("" for what an older run did not record).
std::map<std::string, std::string> build_of(const std::string& run_dir) {
  const std::string file = run_dir + "/summary.json";
  if (!fs::exists(file)) return {};
  std::map<std::string, std::string> build;
  try {
    const auto j = nlohmann::json::parse(read_input_file(file, kMaxInputFileBytes, "run summary"));
    build["device"] = j.value("device", "");
    if (const auto c = j.find("context"); c != j.end() && c->is_object())
      for (const auto* field : {"gda", "commit", "libtorch", "host"}) build[field] = c->value(field, "");
  } catch (const nlohmann::json::exception& e) {
    throw UserError(fmt::format("{}: not readable JSON ({})", file, e.what()));
  }
  return build;
}

DiffSide sweep_side(const std::string& dir) {
  const SweepPlan plan = read_sweep_plan(dir);
  DiffSide side{dir, {}, {}};
  std::map<std::string, std::set<std::string>> swept;
  for (const auto& job : plan.jobs) {
    if (job.kind != SweepJob::Kind::run) continue;
    if (side.keys.empty()) {
      const std::string config = job.config.empty() ? job_config(plan, job).to_toml() : job.config;
      side.keys = flat_keys(config, dir + "/plan.json");
    }
    for (const auto& [key, value] : job.point) swept[key].insert(value);
  }
  for (const auto& [key, values] : swept) {
    std::string all;
    for (const auto& v : values) all += (all.empty() ? "" : ", ") + v;
    side.keys[key] = "swept: " + all;
  }
  return side;
}

/// The section of "section.key" ("" for a top-level key) and the key within it.
std::pair<std::string, std::string> split_key(const std::string& key) {
  const auto dot = key.find('.');
  if (dot == std::string::npos) return {"", key};
  return {key.substr(0, dot), key.substr(dot + 1)};
}

/// "[section]" lines with one line per differing key: "  key  a | b".
std::string differing(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b,
                      const std::string& heading_of_all) {
  std::set<std::string> all;
  for (const auto& [k, v] : a) all.insert(k);
  for (const auto& [k, v] : b) all.insert(k);
  std::map<std::string, std::string> by_section;
  for (const auto& key : all) {
    const auto ia = a.find(key), ib = b.find(key);
    const std::string va = ia == a.end() ? "(none)" : ia->second, vb = ib == b.end() ? "(none)" : ib->second;
    if (va == vb) continue;
    const auto [section, name] = split_key(key);
    by_section[heading_of_all.empty() ? section : heading_of_all] += fmt::format("  {:<24} {}  |  {}\n", name, va, vb);
  }
  std::string out;
  for (const auto& [section, lines] : by_section)
    out += (section.empty() ? std::string("(top level)") : "[" + section + "]") + "\n" + lines;
  return out;
}

}  // namespace

DiffSide diff_side(const std::string& path) {
  if (fs::is_directory(path)) {
    if (fs::exists(path + "/plan.json")) return sweep_side(path);
    const std::string resolved = path + "/config.resolved.toml";
    if (!fs::exists(resolved))
      throw UserError(fmt::format("{}: a folder without config.resolved.toml (a run) or plan.json (a sweep); give "
                                  "a config file, a run folder or a sweep folder", path));
    return {path, flat_keys(read_input_file(resolved, kMaxInputFileBytes, "resolved config"), resolved),
            build_of(path)};
  }
  if (!fs::exists(path)) throw UserError(fmt::format("{}: no such file or folder", path));
  return {path, flat_keys(load_config(path).to_toml(), path), {}};
}

std::string describe_difference(const DiffSide& a, const DiffSide& b) {
  std::string out = differing(a.keys, b.keys, "");
  if (!a.build.empty() && !b.build.empty()) out += differing(a.build, b.build, "build");
  return out;
}

}  // namespace gda
