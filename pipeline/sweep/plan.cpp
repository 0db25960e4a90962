#include "pipeline/sweep/plan.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <set>
#include <toml++/toml.h>

#include "pipeline/config.h"
#include "pipeline/toml_source.h"
#include "core/error.h"
#include "core/files.h"
#include "core/hash.h"
#include "pipeline/config_schema.h"

namespace gda {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string hash_text(const std::string& text) { return fmt::format("{:016x}", fnv1a(text, kGdaHashStart)); }

/// "section.key=value" lines of the keys that are part of `wanted` (by the schema: each key's
/// identity is declared with it, pipeline/config_schema.h), sorted: a canonical text to hash.
std::string canonical(const Config& c, const std::function<bool(Part)>& wanted) {
  std::string text;
  for (const auto& [name, params] : c.sections())
    for (const auto& [key, value] : params.values()) {
      if (!wanted(part_of(c, name, key))) continue;
      text += (name.empty() ? key : name + "." + key) + "=" + value_type_name(value) + ":" + value_to_string(value) + "\n";
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

/// "file:line:col: key", the start of a message about a sweep file's value.
std::string where(const toml::node& n, const std::string& file, const std::string& key) {
  return gda::where(file, n) + ": " + key;
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
  return hash_text(canonical(c, [](Part p) { return p != Part::neither; }));
}

std::string source_hash(const Config& c) {
  return hash_text(canonical(c, [](Part p) { return p == Part::run_and_source; }));
}

void set_default_comparison(SweepPlan& plan) {
  std::string axis;
  for (const auto& a : plan.axes)
    if (a == "optimizer.name") axis = a;
  for (const auto& a : plan.axes)
    if (axis.empty() && a != "seed") axis = a;
  if (axis.empty()) return;
  for (const auto& job : plan.jobs)
    if (job.kind == SweepJob::Kind::run && job.point.count(axis)) {
      plan.compare_axis = axis;
      plan.baseline = job.point.at(axis);
      return;
    }
}

Config job_config(const SweepPlan& plan, const SweepJob& job, const std::vector<std::string>& extra) {
  Config c;
  if (job.config.empty()) {
    std::vector<std::string> overrides = job.overrides;
    overrides.insert(overrides.end(), extra.begin(), extra.end());
    c = load_config(plan.base_config, overrides);
  } else {
    // Relative data paths still resolve against the base config's folder.
    c = parse_config(job.config, plan.base_config + " (as planned, in plan.json)", extra);
    c.file = plan.base_config;
    c.dir = fs::path(plan.base_config).parent_path().string();
  }
  const std::string hash = job.kind == SweepJob::Kind::source ? source_hash(c) : run_hash(c);
  if (hash != job.hash)
    throw UserError(fmt::format("job {} ({}): its config no longer has the hash {} it was planned with (now {}): "
                                "the base config {} or plan.json changed since; run gda sweep again to plan anew",
                                job.index, job.label, job.hash, hash, plan.base_config));
  return c;
}

namespace {

using Point = std::map<std::string, std::string>;  ///< swept key → value (TOML text)
using Grid = std::vector<std::pair<std::string, std::vector<std::string>>>;
using KeyValues = std::vector<std::pair<std::string, std::string>>;

toml::table parse_sweep_file(const std::string& sweep_file) {
  const std::string text = read_input_file(sweep_file, kMaxInputFileBytes, "sweep file");
  toml::table root = parse_toml(text, sweep_file);
  for (const auto& [k, v] : root)
    if (k != "base" && k != "grid" && k != "set" && k != "points" && k != "compare")
      throw UserError(fmt::format("{}: unknown key \"{}\" (a sweep file has base, [grid], [set], [[points]] and "
                                  "[compare]; docs/SWEEPS.md)", where(v, sweep_file, std::string(k.str())),
                                  std::string(k.str())));
  return root;
}

/// The base config's absolute path, from `base` (relative to the sweep file).
std::string base_config_of(const toml::table& root, const std::string& sweep_file, const std::string& absolute_file) {
  auto base = root["base"].value<std::string>();
  if (!base) throw UserError(sweep_file + ": base = \"path/to/config.toml\" is missing (relative to the sweep file)");
  const std::string path = fs::weakly_canonical(fs::path(absolute_file).parent_path() / *base).string();
  if (!fs::exists(path) || fs::is_directory(path))
    throw UserError(fmt::format("{}: base config {} {}", where(*root.get("base"), sweep_file, "base"), path,
                                fs::exists(path) ? "is a directory, not a TOML config file" : "does not exist"));
  return path;
}

/// [set]: the overrides every point gets.
KeyValues fixed_overrides(const toml::table& root, const std::string& sweep_file) {
  KeyValues fixed;
  if (auto set = root["set"].as_table()) {
    std::vector<std::pair<std::string, const toml::node*>> kv;
    flatten(*set, "", sweep_file, kv);
    for (const auto& [k, v] : kv) fixed.emplace_back(k, override_text(*v, where(*v, sweep_file, "set." + k)));
  }
  return fixed;
}

/// [grid]: its arrays, the first key varying slowest; each key joins `axes`.
Grid read_grid(const toml::table& root, const std::string& sweep_file, std::vector<std::string>& axes) {
  Grid grid;
  if (auto table = root["grid"].as_table()) {
    std::vector<std::pair<std::string, const toml::node*>> kv;
    flatten(*table, "", sweep_file, kv);
    for (const auto& [k, v] : kv) {
      auto arr = v->as_array();
      if (!arr || arr->empty())
        throw UserError(fmt::format("{}: a grid key takes a non-empty array of values, e.g. {} = [1, 2]",
                                    where(*v, sweep_file, "grid." + k), k));
      axes.push_back(k);
      std::vector<std::string> values;
      for (const auto& value : *arr) values.push_back(override_text(value, where(value, sweep_file, "grid." + k)));
      grid.emplace_back(k, std::move(values));
    }
  }
  return grid;
}

/// The cartesian product of the grid's keys that `start` does not set, each on top of start.
std::vector<Point> expand(const Grid& grid, const Point& start) {
  std::vector<Point> out = {start};
  for (const auto& [k, values] : grid) {
    if (start.count(k)) continue;
    std::vector<Point> next;
    for (const auto& p : out)
      for (const auto& v : values) {
        auto q = p;
        q[k] = v;
        next.push_back(std::move(q));
      }
    out = std::move(next);
  }
  return out;
}

/// The grid's points, then each [[points]] entry crossed with the grid keys it does not
/// set (e.g. every seed); keys only [[points]] set join `axes`.
std::vector<Point> sweep_points(const toml::table& root, const std::string& sweep_file, const Grid& grid,
                                std::vector<std::string>& axes) {
  std::vector<Point> points = expand(grid, {});
  if (auto extra = root["points"].as_array()) {
    for (const auto& e : *extra) {
      auto t = e.as_table();
      if (!t) throw UserError(where(e, sweep_file, "points") + ": each [[points]] entry is a table of key = value");
      std::vector<std::pair<std::string, const toml::node*>> kv;
      flatten(*t, "", sweep_file, kv);
      Point p;
      for (const auto& [k, v] : kv) {
        p[k] = override_text(*v, where(*v, sweep_file, "points." + k));
        if (std::find(axes.begin(), axes.end(), k) == axes.end()) axes.push_back(k);
      }
      for (auto& q : expand(grid, p)) points.push_back(std::move(q));
    }
  }
  return points;
}

/// The run job of one point, its config validated and hashed.
SweepJob run_job(const SweepPlan& plan, const KeyValues& fixed, const Point& point, const std::string& sweep_file) {
  SweepJob job;
  job.point = point;
  job.label = label_of(point, plan.axes);
  for (const auto& [k, v] : fixed) job.overrides.push_back(k + "=" + v);
  for (const auto& [k, v] : point) job.overrides.push_back(k + "=" + v);
  job.overrides.push_back(fmt::format("threads={}", plan.threads_per_job));
  Config c;
  try {
    c = load_config(plan.base_config, job.overrides);
  } catch (const UserError& e) {
    throw UserError(fmt::format("{}: point {{{}}}: {}", sweep_file, job.label, e.what()));
  }
  job.hash = run_hash(c);
  job.source_hash = source_hash(c);
  job.config = c.to_toml();
  return job;
}

/// Run jobs for the points (two points resolving to one run give one job) and one source
/// job per distinct source hash; source jobs first in the plan, then runs.
void add_jobs(SweepPlan& plan, const KeyValues& fixed, const std::vector<Point>& points,
              const std::string& sweep_file) {
  std::map<std::string, int> source_index;  // source hash → index among the sources
  std::vector<SweepJob> sources, runs;
  std::set<std::string> seen_runs;
  for (const auto& point : points) {
    SweepJob job = run_job(plan, fixed, point, sweep_file);
    if (!seen_runs.insert(job.hash).second) continue;
    if (!source_index.count(job.source_hash)) {
      SweepJob s;
      s.kind = SweepJob::Kind::source;
      s.hash = s.source_hash = job.source_hash;
      s.overrides = job.overrides;
      s.config = job.config;
      s.label = "source of " + job.label;
      source_index[job.source_hash] = int(sources.size());
      sources.push_back(std::move(s));
    }
    job.needs = {source_index[job.source_hash]};
    runs.push_back(std::move(job));
  }
  for (auto& s : sources) s.index = int(plan.jobs.size()), plan.jobs.push_back(s);
  for (auto& r : runs) r.index = int(plan.jobs.size()), plan.jobs.push_back(r);
}

/// [compare] axis and baseline, checked against the swept keys and their values; the
/// defaults when the sweep file leaves them out.
void read_compare(const toml::table& root, const std::string& sweep_file, const std::vector<Point>& points,
                  SweepPlan& plan) {
  const toml::table* compare = root["compare"].as_table();
  if (root.contains("compare") && !compare)
    throw UserError(where(*root.get("compare"), sweep_file, "compare") +
                    " must be a table: [compare] axis = \"optimizer.name\" baseline = \"adam\"");
  std::string axis;
  if (compare) {
    for (const auto& [k, v] : *compare)
      if (k != "axis" && k != "baseline" && k != "interval")
        throw UserError(fmt::format("{}: unknown key (compare has axis, baseline and interval)",
                                    where(v, sweep_file, "compare." + std::string(k.str()))));
    if (auto a = (*compare)["axis"].value<std::string>()) axis = *a;
    if (const toml::node* i = compare->get("interval")) {
      const auto text = i->value<std::string>();
      if (!text || (*text != "t" && *text != "bootstrap"))
        throw UserError(where(*i, sweep_file, "compare.interval") +
                        " must be \"t\" (Student's t, the default) or \"bootstrap\" (paired percentile bootstrap)");
      plan.interval = *text;
    }
  }
  const bool swept = std::find(plan.axes.begin(), plan.axes.end(), axis) != plan.axes.end();
  if (!axis.empty() && (!swept || axis == "seed"))
    throw UserError(fmt::format("{}: compare.axis = \"{}\" is not a swept key (swept: {})",
                                where(*compare->get("axis"), sweep_file, "compare.axis"), axis,
                                fmt::join(plan.axes, ", ")));
  if (axis.empty()) {
    set_default_comparison(plan);
    axis = plan.compare_axis;
  }
  if (axis.empty()) return;  // only seeds: nothing to compare
  plan.compare_axis = axis;
  plan.baseline.clear();
  if (const toml::node* b = compare ? compare->get("baseline") : nullptr) {
    plan.baseline = override_text(*b, where(*b, sweep_file, "compare.baseline"));
    for (const auto& p : points)
      if (p.count(axis) && p.at(axis) == plan.baseline) return;
    throw UserError(fmt::format("{}: compare.baseline = {} is not a value of {} in this sweep",
                                where(*b, sweep_file, "compare.baseline"), plan.baseline, axis));
  }
  for (const auto& job : plan.jobs)  // the first value the sweep gives the axis
    if (job.point.count(axis)) {
      plan.baseline = job.point.at(axis);
      return;
    }
}

}  // namespace

SweepPlan plan_sweep(const std::string& sweep_file, int threads_per_job) {
  const toml::table root = parse_sweep_file(sweep_file);
  SweepPlan plan;
  plan.sweep_file = fs::absolute(sweep_file).string();
  plan.threads_per_job = threads_per_job;
  plan.base_config = base_config_of(root, sweep_file, plan.sweep_file);
  const KeyValues fixed = fixed_overrides(root, sweep_file);
  const Grid grid = read_grid(root, sweep_file, plan.axes);
  const std::vector<Point> points = sweep_points(root, sweep_file, grid, plan.axes);
  add_jobs(plan, fixed, points, sweep_file);
  read_compare(root, sweep_file, points, plan);
  return plan;
}

std::string SweepPlan::to_json() const {
  json j = {{"sweep_file", sweep_file}, {"base_config", base_config}, {"threads_per_job", threads_per_job},
            {"axes", axes}, {"compare_axis", compare_axis}, {"baseline", baseline}, {"interval", interval},
            {"jobs", json::array()}};
  for (const auto& job : jobs)
    j["jobs"].push_back({{"index", job.index},
                         {"kind", job.kind == SweepJob::Kind::source ? "source" : "run"},
                         {"hash", job.hash},
                         {"source_hash", job.source_hash},
                         {"overrides", job.overrides},
                         {"point", job.point},
                         {"needs", job.needs},
                         {"label", job.label},
                         {"config", job.config}});
  return j.dump(1) + "\n";
}

namespace {

/// A hash as gda writes it: 16 lowercase hex digits, so that a folder or file name made from
/// it stays inside the sweep folder.
bool is_job_hash(const std::string& h) {
  return h.size() == 16 && h.find_first_not_of("0123456789abcdef") == std::string::npos;
}

/// Every name a path is made from, and every index, checked before any path is made: plan.json
/// is a file anyone may edit, and a hash of "../../x" would reach outside the sweep folder.
void check_plan_names(const SweepPlan& plan, const std::string& name) {
  for (std::size_t i = 0; i < plan.jobs.size(); ++i) {
    const SweepJob& job = plan.jobs[i];
    const auto refuse = [&](const std::string& what) {
      throw UserError(fmt::format("{}: job {} {}; plan.json was edited or damaged: run gda sweep again to "
                                  "rewrite it", name, i, what));
    };
    if (job.index != int(i)) refuse(fmt::format("has the index {}", job.index));
    for (const std::string* h : {&job.hash, &job.source_hash})
      if (!is_job_hash(*h)) refuse(fmt::format("has the hash \"{}\", not 16 hex digits", h->substr(0, 40)));
    if (job.kind == SweepJob::Kind::source && job.source_hash != job.hash) refuse("is a source job of another hash");
    for (const int k : job.needs)
      if (k < 0 || k >= int(plan.jobs.size()) || k == int(i)) refuse(fmt::format("needs job {}, not in the plan", k));
  }
}

}  // namespace

SweepPlan SweepPlan::from_json(const std::string& text, const std::string& name) {
  try {
    const json j = json::parse(text);
    SweepPlan plan;
    plan.sweep_file = j.at("sweep_file").get<std::string>();
    plan.base_config = j.at("base_config").get<std::string>();
    plan.threads_per_job = j.at("threads_per_job").get<int>();
    plan.axes = j.at("axes").get<std::vector<std::string>>();
    plan.compare_axis = j.value("compare_axis", "");
    plan.baseline = j.value("baseline", "");
    plan.interval = j.value("interval", "t");
    for (const auto& e : j.at("jobs")) {
      SweepJob job;
      job.index = e.at("index").get<int>();
      const std::string kind = e.at("kind").get<std::string>();
      if (kind != "source" && kind != "run")
        throw UserError(fmt::format("{}: job {} is of kind \"{}\" (source or run); run gda sweep again to rewrite "
                                    "plan.json", name, plan.jobs.size(), kind.substr(0, 40)));
      job.kind = kind == "source" ? SweepJob::Kind::source : SweepJob::Kind::run;
      job.hash = e.at("hash").get<std::string>();
      job.source_hash = e.at("source_hash").get<std::string>();
      job.overrides = e.at("overrides").get<std::vector<std::string>>();
      job.point = e.at("point").get<std::map<std::string, std::string>>();
      job.needs = e.at("needs").get<std::vector<int>>();
      job.label = e.at("label").get<std::string>();
      job.config = e.value("config", "");
      plan.jobs.push_back(std::move(job));
    }
    check_plan_names(plan, name);
    return plan;
  } catch (const json::exception& e) {
    throw UserError(name + ": not a sweep plan (" + e.what() + "); run gda sweep again to rewrite it");
  }
}

}  // namespace gda
