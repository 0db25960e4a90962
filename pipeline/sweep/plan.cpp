#include "pipeline/sweep/plan.h"

#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <toml++/toml.h>

#include "pipeline/config.h"
#include "core/error.h"

namespace gda {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string fnv1a(const std::string& text) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  return fmt::format("{:016x}", h);
}

/// "section.key=value" lines of the chosen sections, sorted: a canonical text to hash.
std::string canonical(const Config& c, const std::set<std::string>& sections,
                      const std::set<std::string>& skip_keys) {
  std::string text;
  for (const auto& [name, params] : c.sections()) {
    if (!sections.count(name)) continue;
    for (const auto& [key, value] : params.values()) {
      const std::string path = name.empty() ? key : name + "." + key;
      if (skip_keys.count(path)) continue;
      text += path + "=" + value_type_name(value) + ":" + value_to_string(value) + "\n";
    }
  }
  return text;
}

/// A TOML value as the text of a --set override.
std::string override_text(const toml::node& v, const std::string& where) {
  if (auto s = v.as_string()) return json(s->get()).dump();  // a JSON string is a TOML basic string
  if (auto i = v.as_integer()) return std::to_string(i->get());
  if (auto b = v.as_boolean()) return b->get() ? "true" : "false";
  if (auto f = v.as_floating_point()) {
    std::string t = fmt::format("{}", f->get());
    if (t.find_first_of(".eEn") == std::string::npos) t += ".0";
    return t;
  }
  throw UserError(where + ": a sweep value must be a string, number or boolean");
}

std::string where(const toml::node& n, const std::string& file, const std::string& key) {
  const auto& s = n.source().begin;
  return fmt::format("{}:{}:{}: {}", file, s.line, s.column, key);
}

/// Flattens nested tables into dotted keys: [grid.optimizer] name = [...] → optimizer.name.
void flatten(const toml::table& t, const std::string& prefix, const std::string& file,
             std::vector<std::pair<std::string, const toml::node*>>& out) {
  for (const auto& [k, v] : t) {
    const std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (auto sub = v.as_table()) flatten(*sub, key, file, out);
    else out.emplace_back(key, &v);
  }
}

std::string label_of(const std::map<std::string, std::string>& point, const std::vector<std::string>& order) {
  std::string label;
  for (const auto& k : order) {
    auto it = point.find(k);
    if (it == point.end()) continue;
    if (!label.empty()) label += " ";
    const std::string& v = it->second;  // strings shown without their quotes
    label += k + "=" + (v.size() >= 2 && v.front() == '"' ? json::parse(v).get<std::string>() : v);
  }
  return label;
}

}  // namespace

std::string SweepJob::dir_name() const { return (kind == Kind::source ? "sources/" : "runs/") + hash; }

int SweepPlan::count(SweepJob::Kind k) const {
  int n = 0;
  for (const auto& j : jobs) n += j.kind == k;
  return n;
}

std::string run_hash(const Config& c) {
  std::set<std::string> sections;
  for (const auto& [name, p] : c.sections())
    if (name != "output") sections.insert(name);
  return fnv1a(canonical(c, sections, {}));
}

std::string source_hash(const Config& c) {
  std::set<std::string> sections = {"", "data", "model", "source", "shift"};
  if (c.section("source").text("optimizer") == "same") sections.insert("optimizer");
  return fnv1a(canonical(c, sections, {"shift.T"}));
}

Config job_config(const SweepPlan& plan, const SweepJob& job) {
  return load_config(plan.base_config, job.overrides);
}

SweepPlan plan_sweep(const std::string& sweep_file, int threads_per_job) {
  toml::table root;
  try {
    root = toml::parse_file(sweep_file);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw UserError(fmt::format("{}:{}:{}: TOML syntax error: {}", sweep_file, b.line, b.column, e.description()));
  }
  for (const auto& [k, v] : root)
    if (k != "base" && k != "grid" && k != "set" && k != "points")
      throw UserError(fmt::format("{}: unknown key \"{}\" (a sweep file has base, [grid], [set] and [[points]]; "
                                  "docs/SWEEPS.md)", where(v, sweep_file, std::string(k.str())), std::string(k.str())));
  SweepPlan plan;
  plan.sweep_file = fs::absolute(sweep_file).string();
  plan.threads_per_job = threads_per_job;
  auto base = root["base"].value<std::string>();
  if (!base) throw UserError(sweep_file + ": base = \"path/to/config.toml\" is missing (relative to the sweep file)");
  plan.base_config = fs::weakly_canonical(fs::path(plan.sweep_file).parent_path() / *base).string();
  if (!fs::exists(plan.base_config))
    throw UserError(fmt::format("{}: base config {} does not exist", where(*root.get("base"), sweep_file, "base"),
                                plan.base_config));

  // Fixed overrides for every point.
  std::vector<std::pair<std::string, std::string>> fixed;
  if (auto set = root["set"].as_table()) {
    std::vector<std::pair<std::string, const toml::node*>> kv;
    flatten(*set, "", sweep_file, kv);
    for (const auto& [k, v] : kv) fixed.emplace_back(k, override_text(*v, where(*v, sweep_file, "set." + k)));
  }

  // The grid: its arrays, the first key varying slowest.
  std::vector<std::pair<std::string, std::vector<std::string>>> grid;
  if (auto table = root["grid"].as_table()) {
    std::vector<std::pair<std::string, const toml::node*>> kv;
    flatten(*table, "", sweep_file, kv);
    for (const auto& [k, v] : kv) {
      auto arr = v->as_array();
      if (!arr || arr->empty())
        throw UserError(fmt::format("{}: a grid key takes a non-empty array of values, e.g. {} = [1, 2]",
                                    where(*v, sweep_file, "grid." + k), k));
      plan.axes.push_back(k);
      std::vector<std::string> values;
      for (const auto& value : *arr) values.push_back(override_text(value, where(value, sweep_file, "grid." + k)));
      grid.emplace_back(k, std::move(values));
    }
  }
  // The cartesian product of the grid's keys that `start` does not set, each on top of start.
  auto expand = [&](const std::map<std::string, std::string>& start) {
    std::vector<std::map<std::string, std::string>> out = {start};
    for (const auto& [k, values] : grid) {
      if (start.count(k)) continue;
      std::vector<std::map<std::string, std::string>> next;
      for (const auto& p : out)
        for (const auto& v : values) {
          auto q = p;
          q[k] = v;
          next.push_back(std::move(q));
        }
      out = std::move(next);
    }
    return out;
  };
  std::vector<std::map<std::string, std::string>> points = expand({});
  // Extra points, each crossed with the grid keys it does not set (e.g. every seed).
  if (auto extra = root["points"].as_array()) {
    for (const auto& e : *extra) {
      auto t = e.as_table();
      if (!t) throw UserError(where(e, sweep_file, "points") + ": each [[points]] entry is a table of key = value");
      std::vector<std::pair<std::string, const toml::node*>> kv;
      flatten(*t, "", sweep_file, kv);
      std::map<std::string, std::string> p;
      for (const auto& [k, v] : kv) {
        p[k] = override_text(*v, where(*v, sweep_file, "points." + k));
        if (std::find(plan.axes.begin(), plan.axes.end(), k) == plan.axes.end()) plan.axes.push_back(k);
      }
      for (auto& q : expand(p)) points.push_back(std::move(q));
    }
  }

  std::map<std::string, int> source_index;  // source hash → job index
  std::vector<SweepJob> sources, runs;
  std::set<std::string> seen_runs;
  for (const auto& point : points) {
    SweepJob job;
    job.point = point;
    job.label = label_of(point, plan.axes);
    for (const auto& [k, v] : fixed) job.overrides.push_back(k + "=" + v);
    for (const auto& [k, v] : point) job.overrides.push_back(k + "=" + v);
    job.overrides.push_back(fmt::format("threads={}", threads_per_job));
    Config c;
    try {
      c = load_config(plan.base_config, job.overrides);
    } catch (const UserError& e) {
      throw UserError(fmt::format("{}: point {{{}}}: {}", sweep_file, job.label, e.what()));
    }
    job.hash = run_hash(c);
    job.source_hash = source_hash(c);
    if (!seen_runs.insert(job.hash).second) continue;  // two points that resolve to one run
    if (!source_index.count(job.source_hash)) {
      SweepJob s;
      s.kind = SweepJob::Kind::source;
      s.hash = s.source_hash = job.source_hash;
      s.overrides = job.overrides;
      s.label = "source of " + job.label;
      source_index[job.source_hash] = int(sources.size());
      sources.push_back(std::move(s));
    }
    job.needs = {source_index[job.source_hash]};
    runs.push_back(std::move(job));
  }
  for (auto& s : sources) s.index = int(plan.jobs.size()), plan.jobs.push_back(s);
  for (auto& r : runs) r.index = int(plan.jobs.size()), plan.jobs.push_back(r);
  return plan;
}

std::string SweepPlan::to_json() const {
  json j = {{"sweep_file", sweep_file}, {"base_config", base_config}, {"threads_per_job", threads_per_job},
            {"axes", axes}, {"jobs", json::array()}};
  for (const auto& job : jobs)
    j["jobs"].push_back({{"index", job.index},
                         {"kind", job.kind == SweepJob::Kind::source ? "source" : "run"},
                         {"hash", job.hash},
                         {"source_hash", job.source_hash},
                         {"overrides", job.overrides},
                         {"point", job.point},
                         {"needs", job.needs},
                         {"label", job.label}});
  return j.dump(1) + "\n";
}

SweepPlan SweepPlan::from_json(const std::string& text, const std::string& name) {
  try {
    const json j = json::parse(text);
    SweepPlan plan;
    plan.sweep_file = j.at("sweep_file").get<std::string>();
    plan.base_config = j.at("base_config").get<std::string>();
    plan.threads_per_job = j.at("threads_per_job").get<int>();
    plan.axes = j.at("axes").get<std::vector<std::string>>();
    for (const auto& e : j.at("jobs")) {
      SweepJob job;
      job.index = e.at("index").get<int>();
      job.kind = e.at("kind").get<std::string>() == "source" ? SweepJob::Kind::source : SweepJob::Kind::run;
      job.hash = e.at("hash").get<std::string>();
      job.source_hash = e.at("source_hash").get<std::string>();
      job.overrides = e.at("overrides").get<std::vector<std::string>>();
      job.point = e.at("point").get<std::map<std::string, std::string>>();
      job.needs = e.at("needs").get<std::vector<int>>();
      job.label = e.at("label").get<std::string>();
      plan.jobs.push_back(std::move(job));
    }
    return plan;
  } catch (const json::exception& e) {
    throw UserError(name + ": not a sweep plan (" + e.what() + "); run gda sweep again to rewrite it");
  }
}

}  // namespace gda
