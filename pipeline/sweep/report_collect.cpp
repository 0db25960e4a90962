// Reading a sweep folder's results into groups (runs that differ only in the seed), with
// their means, paired differences against the baseline and sharpness-against-accuracy ranks.
#include <fmt/format.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/files.h"
#include "core/hash.h"
#include "core/params.h"
#include "core/random.h"
#include "pipeline/run_record.h"
#include "pipeline/sweep/job.h"
#include "pipeline/sweep/report_parts.h"

namespace gda {
namespace sweep_report {

namespace fs = std::filesystem;
using nlohmann::json;
namespace {

/// An accuracy field of summary.json: null or absent = none.
std::optional<double> optional_number(const json& s, const char* key) {
  const auto it = s.find(key);
  if (it == s.end() || it->is_null()) return std::nullopt;
  return it->get<double>();
}

/// Fills r from a finished run's summary.json and stages.jsonl; throws json::exception
/// (naming nothing) or std::runtime_error (naming the file) when they are damaged.
void read_finished_run(const std::string& run_dir, RunResult& r) {
  const std::string summary_file = run_dir + "/summary.json";
  if (!fs::exists(summary_file)) throw std::runtime_error(summary_file + " is missing");
  const std::string summary = read_input_file(summary_file, kMaxInputFileBytes, "run summary");
  if (summary.empty()) throw std::runtime_error(summary_file + " is empty");
  const json s = json::parse(summary);
  const std::string word = s.at("status").get<std::string>();
  r.status = status_named(word);
  if (!r.status) throw std::runtime_error(summary_file + " has status \"" + text_for_message(word) + "\", not a run's");
  r.error = s.value("error", "");
  r.device = s.value("device", "");
  if (const auto c = s.find("context"); c != s.end() && c->is_object()) {
    r.host = c->value("host", "");
    r.made_by = "gda " + c->value("gda", "?") + " (commit " + c->value("commit", "?") + ", LibTorch " +
                c->value("libtorch", "?") + ")";
  }
  r.final_target = optional_number(s, "final_target_accuracy");
  r.zero_shot = optional_number(s, "zero_shot_target_accuracy");
  if (const auto t = s.find("target_domain"); t != s.end() && t->is_string()) r.target_domain = t->get<std::string>();
  r.seconds = s.at("seconds").at("total").get<double>();
  r.forward = double(s.at("passes").at("forward").get<std::int64_t>());
  r.backward = double(s.at("passes").at("backward").get<std::int64_t>());
  const std::string stages_file = run_dir + "/stages.jsonl";
  std::istringstream in(fs::exists(stages_file) ? read_input_file(stages_file, 64 * kMaxInputFileBytes, "stage record")
                                                : std::string());
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // a blank line (an editor's last newline)
    std::map<std::string, double> acc, analysis;
    try {
      const StageMeasurements stage = stage_measurements_from_json_line(line);
      for (const auto& a : stage.accuracies) acc[a.domain] = a.accuracy;
      for (const auto& m : stage.analysis) analysis[m.domain + "/" + m.name] = m.value;
    } catch (const json::exception& e) {
      throw std::runtime_error(fmt::format("{}/stages.jsonl:{}: {}", run_dir, number, e.what()));
    }
    r.stage_accuracy.push_back(std::move(acc));
    r.stage_analysis.push_back(std::move(analysis));
  }
}

RunResult read_run(const std::string& dir, const SweepJob& job) {
  RunResult r;
  r.hash = job.hash;
  r.seed = job.point.count("seed") ? job.point.at("seed") : "";
  if (!job_finished(dir, job)) {
    const std::string failure = read_text(dir + "/failed/" + job.hash + ".txt");
    if (!failure.empty()) r.status = RunStatus::error;
    r.error = failure.substr(0, failure.find_last_not_of('\n') + 1);
    return r;
  }
  const std::string run_dir = dir + "/" + job.dir_name();
  try {
    read_finished_run(run_dir, r);
  } catch (const std::exception& e) {
    // Damaged by hand or by the disk (gda writes each file whole): reported, not fatal.
    const bool json_error = dynamic_cast<const json::exception*>(&e) != nullptr;
    r = RunResult{job.hash, r.seed, RunStatus::error};
    r.error = fmt::format("damaged result: {}{}; delete {} and run gda sweep again to redo it",
                          json_error ? run_dir + "/summary.json: " : "", e.what(), run_dir);
  }
  return r;
}

using StageMaps = std::vector<std::map<std::string, double>>;

/// Every name in the ok runs' per-stage maps `field` (stages.jsonl's accuracies by domain,
/// or [analysis] measurements), with its values per stage over the runs that have it there.
std::map<std::string, std::vector<std::vector<double>>> values_by_stage(const std::vector<RunResult>& runs,
                                                                        StageMaps RunResult::*field) {
  std::map<std::string, std::vector<std::vector<double>>> values;
  for (const auto& r : runs) {
    if (!r.ok()) continue;
    const StageMaps& stages = r.*field;
    for (std::size_t k = 0; k < stages.size(); ++k)
      for (const auto& [name, v] : stages[k]) {
        auto& per_stage = values[name];
        if (per_stage.size() < stages.size()) per_stage.resize(stages.size());
        per_stage[k].push_back(v);
      }
  }
  return values;
}

/// The target's name in the group's stage records: the path's last domain, as its runs
/// recorded it (the runs of a group share their data and generator).
std::string target_domain(const ResultGroup& g) {
  for (const auto& r : g.runs)
    if (r.ok()) return r.target_domain;
  return "target";
}

/// Means and stds over a group's runs that ended ok.
void summarise(ResultGroup& g) {
  std::vector<double> final_target, zero_shot, seconds, forward, backward;
  for (const auto& r : g.runs) {
    if (!r.ok()) continue;
    if (r.final_target) final_target.push_back(*r.final_target);
    if (r.zero_shot) zero_shot.push_back(*r.zero_shot);
    seconds.push_back(r.seconds);
    forward.push_back(r.forward);
    backward.push_back(r.backward);
  }
  g.final_target = MeanStd::of(final_target);
  g.zero_shot = MeanStd::of(zero_shot);
  g.seconds = MeanStd::of(seconds);
  g.forward = MeanStd::of(forward);
  g.backward = MeanStd::of(backward);
  // stages.jsonl keys accuracies by domain name; the target is the domain so named.
  auto accuracies = values_by_stage(g.runs, &RunResult::stage_accuracy);
  for (const auto& values : accuracies[target_domain(g)]) g.stage_target.push_back(MeanStd::of(values));
  for (const auto& [name, per_stage] : values_by_stage(g.runs, &RunResult::stage_analysis))
    for (const auto& values : per_stage) g.stage_analysis[name].push_back(MeanStd::of(values));
}

/// The sharpness measurements of the target, in the order the report prefers them.
const std::vector<std::string> kTargetSharpness = {"target/worst_case", "target/lambda_max",
                                                   "target/adaptive_worst_case", "target/average_case",
                                                   "target/trace"};

/// Spearman's ρ between each target sharpness at the last stage and the final target
/// accuracy: over every ok run, and over the groups' means.
void relate_sharpness_to_accuracy(SweepReport& report) {
  for (const auto& name : kTargetSharpness) {
    MeasurementVsAccuracy m{name, std::nullopt, std::nullopt};
    std::vector<double> run_x, run_y, group_x, group_y;
    for (const auto& g : report.groups) {
      std::vector<double> xs, ys;  // the group's runs that measured it, both sides from the same runs
      for (const auto& r : g.runs) {
        const auto x = at_last_stage(r, name);
        if (!r.ok() || !x || !r.final_target) continue;
        xs.push_back(*x);
        ys.push_back(*r.final_target);
      }
      run_x.insert(run_x.end(), xs.begin(), xs.end());
      run_y.insert(run_y.end(), ys.begin(), ys.end());
      const MeanStd mx = MeanStd::of(xs), my = MeanStd::of(ys);
      if (mx.mean) group_x.push_back(*mx.mean), group_y.push_back(*my.mean);
    }
    if (run_x.empty()) continue;
    m.over_runs = spearman(run_x, run_y);
    m.over_groups = spearman(group_x, group_y);
    report.sharpness_vs_accuracy.push_back(std::move(m));
  }
}

/// Each group's paired difference against the group that differs from it only in the
/// compared axis, which holds the baseline value.
void compare_with_baseline(SweepReport& report) {
  if (report.compare_axis.empty()) return;
  for (auto& g : report.groups) {
    if (!g.point.count(report.compare_axis) || g.point.at(report.compare_axis) == report.baseline) continue;
    auto base_point = g.point;
    base_point[report.compare_axis] = report.baseline;
    const ResultGroup* base = nullptr;
    for (const auto& b : report.groups)
      if (b.point == base_point) base = &b;
    if (!base) continue;
    std::map<std::string, double> base_by_seed;
    for (const auto& r : base->runs)
      if (r.ok() && r.final_target) base_by_seed[r.seed] = *r.final_target;
    std::vector<double> differences;
    for (const auto& r : g.runs)
      if (r.ok() && r.final_target && base_by_seed.count(r.seed))
        differences.push_back(*r.final_target - base_by_seed.at(r.seed));
    g.vs_baseline = report.interval == "bootstrap"
                        ? MeanCi::bootstrap(differences, derive_seed(0, "report/bootstrap/" + g.label))
                        : MeanCi::of(differences);
  }
}

}  // namespace

std::string unquote(const std::string& v) {
  return v.size() >= 2 && v.front() == '"' ? json::parse(v).get<std::string>() : v;
}

/// A run's measurement at its last stage, if it made it there.
std::optional<double> at_last_stage(const RunResult& r, const std::string& name) {
  if (r.stage_analysis.empty()) return std::nullopt;
  const auto& last = r.stage_analysis.back();
  const auto it = last.find(name);
  return it == last.end() ? std::nullopt : std::optional<double>(it->second);
}

}  // namespace sweep_report

using namespace sweep_report;

SweepReport collect_report(const std::string& dir) {
  SweepPlan plan = read_sweep_plan(dir);
  if (plan.compare_axis.empty()) set_default_comparison(plan);  // a plan from before [compare]
  SweepReport report;
  report.sweep_file = plan.sweep_file;
  report.plan_hash = fmt::format("{:016x}", fnv1a(read_text(dir + "/plan.json"), kGdaHashStart));
  report.threads_per_job = plan.threads_per_job;
  report.compare_axis = plan.compare_axis;
  report.baseline = plan.baseline;
  report.interval = plan.interval;
  for (const auto& a : plan.axes)
    if (a != "seed") report.axes.push_back(a);
  std::map<std::map<std::string, std::string>, std::size_t> index;
  for (const auto& job : plan.jobs) {
    if (job.kind == SweepJob::Kind::source) {
      report.source_models += job_finished(dir, job);
      continue;
    }
    auto point = job.point;
    point.erase("seed");
    auto [it, fresh] = index.emplace(point, report.groups.size());
    if (fresh) {
      ResultGroup g;
      g.point = point;
      for (const auto& a : report.axes)
        if (point.count(a)) g.label += (g.label.empty() ? "" : " ") + a + "=" + unquote(point.at(a));
      if (g.label.empty()) g.label = "base config";
      report.groups.push_back(std::move(g));
    }
    RunResult r = read_run(dir, job);
    if (!r.device.empty()) ++report.devices[r.device];
    if (!r.host.empty()) ++report.hosts[r.host];
    if (!r.made_by.empty()) ++report.builds[r.made_by];
    if (r.ok()) ++report.ok;
    else if (r.status == RunStatus::failed) ++report.failed;
    else if (r.status == RunStatus::error) ++report.errors;
    else ++report.not_run;
    report.groups[it->second].runs.push_back(std::move(r));
  }
  for (auto& g : report.groups) summarise(g);
  compare_with_baseline(report);
  relate_sharpness_to_accuracy(report);
  return report;
}
}  // namespace gda
