#include "pipeline/sweep/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "core/hash.h"
#include "core/process.h"
#include "pipeline/run_record.h"
#include "pipeline/sweep/job.h"

namespace gda {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string unquote(const std::string& v) {
  return v.size() >= 2 && v.front() == '"' ? json::parse(v).get<std::string>() : v;
}

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
  const std::string summary = read_text(summary_file);
  if (summary.empty()) throw std::runtime_error(summary_file + " is missing or empty");
  const json s = json::parse(summary);
  r.status = s.at("status").get<std::string>();
  r.error = s.value("error", "");
  r.device = s.value("device", "");
  if (const auto c = s.find("context"); c != s.end() && c->is_object()) {
    r.host = c->value("host", "");
    r.made_by = "gda " + c->value("gda", "?") + " (commit " + c->value("commit", "?") + ", LibTorch " +
                c->value("libtorch", "?") + ")";
  }
  r.final_target = optional_number(s, "final_target_accuracy");
  r.zero_shot = optional_number(s, "zero_shot_target_accuracy");
  r.seconds = s.at("seconds").at("total").get<double>();
  r.forward = double(s.at("passes").at("forward").get<std::int64_t>());
  r.backward = double(s.at("passes").at("backward").get<std::int64_t>());
  std::ifstream in(run_dir + "/stages.jsonl");
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    std::map<std::string, double> acc;
    try {
      const json stage = json::parse(line);  // named: items() of a temporary would dangle
      for (const auto& [d, a] : stage.at("accuracy").items()) acc[d] = a.get<double>();
    } catch (const json::exception& e) {
      throw std::runtime_error(fmt::format("{}/stages.jsonl:{}: {}", run_dir, number, e.what()));
    }
    r.stage_accuracy.push_back(std::move(acc));
  }
}

RunResult read_run(const std::string& dir, const SweepJob& job) {
  RunResult r;
  r.hash = job.hash;
  r.seed = job.point.count("seed") ? job.point.at("seed") : "";
  if (!job_finished(dir, job)) {
    const std::string failure = read_text(dir + "/failed/" + job.hash + ".txt");
    r.status = failure.empty() ? "not run" : "error";
    r.error = failure.substr(0, failure.find_last_not_of('\n') + 1);
    return r;
  }
  const std::string run_dir = dir + "/" + job.dir_name();
  try {
    read_finished_run(run_dir, r);
  } catch (const std::exception& e) {
    // Damaged by hand or by the disk (gda writes each file whole): reported, not fatal.
    const bool json_error = dynamic_cast<const json::exception*>(&e) != nullptr;
    r = RunResult{job.hash, r.seed, "error"};
    r.error = fmt::format("damaged result: {}{}; delete {} and run gda sweep again to redo it",
                          json_error ? run_dir + "/summary.json: " : "", e.what(), run_dir);
  }
  return r;
}

std::string pct(const MeanStd& m) {
  if (!m.mean) return "-";
  return m.std ? fmt::format("{:.1f} ± {:.1f}", 100 * *m.mean, 100 * *m.std) : fmt::format("{:.1f}", 100 * *m.mean);
}

json mean_std_json(const MeanStd& m) {
  return {{"mean", m.mean ? json(*m.mean) : json(nullptr)}, {"std", m.std ? json(*m.std) : json(nullptr)}, {"n", m.n}};
}

std::string csv_num(const std::optional<double>& v) { return v ? fmt::format("{:.6g}", *v) : ""; }

/// Writes plots/NAME.gp and runs gnuplot on it in plots/ (the scripts name their files
/// relative to it, so no path of the user's reaches a script or a shell); appends
/// "plots/NAME.png" to `made` on success.
void gnuplot(const std::string& out, const std::string& name, const std::string& script, std::string& made) {
  atomic_write(out + "/" + name + ".gp", script);
  if (run_process({"gnuplot", name + ".gp"}, out) == 0)
    made += (made.empty() ? "" : ", ") + fmt::format("plots/{}.png", name);
}

/// Target accuracy after each stage, one line per group (at the largest T when T is swept).
void plot_by_stage(const std::string& out, const SweepReport& report, bool has_t, std::string& made) {
  std::string max_t;
  if (has_t)
    for (const auto& g : report.groups)
      if (g.point.count("shift.T") && (max_t.empty() || std::stod(g.point.at("shift.T")) > std::stod(max_t)))
        max_t = g.point.at("shift.T");
  std::string data, lines;
  int block = 0;
  for (const auto& g : report.groups) {
    if (has_t && (!g.point.count("shift.T") || g.point.at("shift.T") != max_t)) continue;
    if (g.stage_target.empty()) continue;
    data += fmt::format("# {}\n", g.label);
    for (std::size_t k = 0; k < g.stage_target.size(); ++k)
      if (g.stage_target[k].mean) data += fmt::format("{} {:.6f}\n", k, 100 * *g.stage_target[k].mean);
    data += "\n\n";
    lines += fmt::format("{}'by_stage.dat' index {} with linespoints title \"{}\"", block ? ", " : "", block,
                         g.label);
    ++block;
  }
  if (!block) return;
  atomic_write(out + "/by_stage.dat", data);
  gnuplot(out, "accuracy_by_stage",
          fmt::format("set terminal pngcairo size 900,600\nset output 'accuracy_by_stage.png'\n"
                      "set xlabel 'stage (0 = source model)'\nset ylabel 'target accuracy (%), mean over seeds'\n"
                      "set key bottom right\nset grid\nset title 'Target accuracy after each stage{}'\nplot {}\n",
                      has_t ? " (T = " + max_t + ")" : "", lines),
          made);
}

/// Final target accuracy against T with error bars, one line per series (the point without T).
void plot_by_t(const std::string& out, const SweepReport& report, std::string& made) {
  std::map<std::string, std::vector<const ResultGroup*>> series;
  for (const auto& g : report.groups) {
    if (!g.point.count("shift.T")) continue;  // a [[points]] entry that leaves T to the base config
    std::string name;
    for (const auto& [k, v] : g.point)
      if (k != "shift.T") name += (name.empty() ? "" : " ") + k + "=" + unquote(v);
    series[name.empty() ? "runs" : name].push_back(&g);
  }
  std::string d, l;
  int i = 0;
  for (auto& [name, groups] : series) {
    std::sort(groups.begin(), groups.end(), [](const ResultGroup* a, const ResultGroup* b) {
      return std::stod(a->point.at("shift.T")) < std::stod(b->point.at("shift.T"));
    });
    d += "# " + name + "\n";
    for (const auto* g : groups)
      if (g->final_target.mean)
        d += fmt::format("{} {:.6f} {:.6f}\n", g->point.at("shift.T"), 100 * *g->final_target.mean,
                         100 * g->final_target.std.value_or(0));
    d += "\n\n";
    l += fmt::format("{}'by_T.dat' index {} with yerrorlines title \"{}\"", i ? ", " : "", i, name);
    ++i;
  }
  atomic_write(out + "/by_T.dat", d);
  gnuplot(out, "accuracy_by_T",
          fmt::format("set terminal pngcairo size 900,600\nset output 'accuracy_by_T.png'\n"
                      "set xlabel 'intermediate domains T'\nset ylabel 'final target accuracy (%), mean ± std over seeds'\n"
                      "set key bottom right\nset grid\nset offsets 0.5,0.5,0,0\nplot {}\n", l),
          made);
}

/// Plots through gnuplot; returns what was made (or why not).
std::string plot(const std::string& dir, const SweepReport& report) {
  if (!on_path("gnuplot"))
    return "no plots: gnuplot is not installed (apt-get install gnuplot-nox)";
  const std::string out = dir + "/plots";
  fs::create_directories(out);
  std::string made;
  const bool has_t = std::count(report.axes.begin(), report.axes.end(), "shift.T") > 0;
  plot_by_stage(out, report, has_t, made);
  if (has_t) plot_by_t(out, report, made);
  return made.empty() ? "no plots: gnuplot failed (see plots/*.gp)" : made;
}

/// Means and stds over a group's runs that ended ok.
void summarise(ResultGroup& g) {
  std::vector<double> final_target, zero_shot, seconds, forward, backward;
  std::vector<std::vector<double>> stage;
  for (const auto& r : g.runs) {
    if (r.status != "ok") continue;
    if (r.final_target) final_target.push_back(*r.final_target);
    if (r.zero_shot) zero_shot.push_back(*r.zero_shot);
    seconds.push_back(r.seconds);
    forward.push_back(r.forward);
    backward.push_back(r.backward);
    for (std::size_t k = 0; k < r.stage_accuracy.size(); ++k) {
      if (stage.size() <= k) stage.resize(k + 1);
      // stages.jsonl keys accuracies by domain name; the target is the domain so named.
      auto t = r.stage_accuracy[k].find("target");
      if (t != r.stage_accuracy[k].end()) stage[k].push_back(t->second);
    }
  }
  g.final_target = MeanStd::of(final_target);
  g.zero_shot = MeanStd::of(zero_shot);
  g.seconds = MeanStd::of(seconds);
  g.forward = MeanStd::of(forward);
  g.backward = MeanStd::of(backward);
  for (const auto& st : stage) g.stage_target.push_back(MeanStd::of(st));
}

}  // namespace

MeanStd MeanStd::of(const std::vector<double>& v) {
  MeanStd m;
  m.n = v.size();
  if (v.empty()) return m;
  double s = 0;
  for (double x : v) s += x;
  m.mean = s / double(v.size());
  if (v.size() >= 2) {
    double ss = 0;
    for (double x : v) ss += (x - *m.mean) * (x - *m.mean);
    m.std = std::sqrt(ss / double(v.size() - 1));
  }
  return m;
}

SweepReport collect_report(const std::string& dir) {
  const SweepPlan plan = read_sweep_plan(dir);
  SweepReport report;
  report.sweep_file = plan.sweep_file;
  report.plan_hash = fmt::format("{:016x}", fnv1a(read_text(dir + "/plan.json"), kGdaHashStart));
  report.threads_per_job = plan.threads_per_job;
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
    if (r.status == "ok") ++report.ok;
    else if (r.status == "failed") ++report.failed;
    else if (r.status == "error") ++report.errors;
    else ++report.not_run;
    report.groups[it->second].runs.push_back(std::move(r));
  }
  for (auto& g : report.groups) summarise(g);
  return report;
}

namespace {

/// The table of groups: the swept values, seeds ok, final and zero-shot target accuracy,
/// wall time and passes per run.
/// "name (n runs), …" of a count map.
std::string counted(const std::map<std::string, int>& m) {
  std::string text;
  for (const auto& [name, runs] : m) text += fmt::format("{}{} ({} runs)", text.empty() ? "" : ", ", name, runs);
  return text.empty() ? "-" : text;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  return when;
}

/// Which plan the report is of and what made its runs and itself.
std::string markdown_context(const SweepReport& report) {
  const BuildInfo b = build_info();
  return fmt::format("Plan {} of {}, {} threads per job.  \nRuns made on: {}.  \nRuns made by: {}.  \n"
                     "Report made {} by gda {} (commit {}, LibTorch {}).\n\n",
                     report.plan_hash, report.sweep_file, report.threads_per_job, counted(report.hosts),
                     counted(report.builds), utc_now(), b.gda, b.commit, b.libtorch);
}

json context_json(const SweepReport& report) {
  const BuildInfo b = build_info();
  return {{"plan_hash", report.plan_hash}, {"sweep_file", report.sweep_file},
          {"threads_per_job", report.threads_per_job}, {"hosts", report.hosts}, {"runs_made_by", report.builds},
          {"devices", report.devices}, {"made", utc_now()}, {"gda", b.gda}, {"commit", b.commit},
          {"libtorch", b.libtorch}};
}

std::string markdown_groups(const SweepReport& report) {
  std::string md = fmt::format("{} runs: {} ok, {} failed (numeric), {} errors, {} not run; {} source models trained.\n"
                               "Accuracies in %, mean ± sample std over the seeds that finished ok.\n\n",
                               report.ok + report.failed + report.errors + report.not_run, report.ok, report.failed,
                               report.errors, report.not_run, report.source_models);
  for (const auto& [device, runs] : report.devices) md += fmt::format("Device: {} ({} runs).  \n", device, runs);
  if (!report.devices.empty()) md += "\n";
  std::string head = "|", rule = "|";
  for (const auto& a : report.axes) head += " " + a + " |", rule += "---|";
  md += head + " seeds ok | final target | zero-shot target | wall s per run | fwd / bwd passes per run |\n";
  md += rule + "---|---|---|---|---|\n";
  for (const auto& g : report.groups) {
    std::string row = "|";
    for (const auto& a : report.axes) row += " " + (g.point.count(a) ? unquote(g.point.at(a)) : "") + " |";
    md += row + fmt::format(" {}/{} | {} | {} | {} | {} |\n", g.final_target.n, g.runs.size(), pct(g.final_target),
                            pct(g.zero_shot), g.seconds.mean ? fmt::format("{:.1f}", *g.seconds.mean) : "-",
                            g.forward.mean ? fmt::format("{:.0f} / {:.0f}", *g.forward.mean, *g.backward.mean) : "-");
  }
  return md;
}

/// Target accuracy per stage (mean over seeds), one row per group; "" without stages.
std::string markdown_stages(const SweepReport& report) {
  std::size_t max_stages = 0;
  for (const auto& g : report.groups) max_stages = std::max(max_stages, g.stage_target.size());
  if (max_stages == 0) return "";
  std::string md = "\nTarget accuracy after each stage (stage 0 = the source model), mean over seeds:\n\n| run |";
  for (std::size_t k = 0; k < max_stages; ++k) md += fmt::format(" {} |", k);
  md += "\n|---|";
  for (std::size_t k = 0; k < max_stages; ++k) md += "---|";
  md += "\n";
  for (const auto& g : report.groups) {
    md += "| " + g.label + " |";
    for (std::size_t k = 0; k < max_stages; ++k)
      md += " " + (k < g.stage_target.size() && g.stage_target[k].mean
                       ? fmt::format("{:.1f}", 100 * *g.stage_target[k].mean)
                       : std::string()) + " |";
    md += "\n";
  }
  return md;
}

/// "Runs without a result": every run that did not end ok, with its error; "" if none.
std::string markdown_problems(const SweepReport& report) {
  std::string problems;
  for (const auto& g : report.groups)
    for (const auto& r : g.runs)
      if (r.status != "ok")
        problems += fmt::format("- {} seed {} ({}): {}{}\n", g.label, r.seed, r.hash, r.status,
                                r.error.empty() ? "" : " — " + r.error);
  return problems.empty() ? "" : "\nRuns without a result:\n\n" + problems;
}

/// report.csv: one row per group.
std::string groups_csv(const SweepReport& report) {
  std::string csv;
  for (const auto& a : report.axes) csv += a + ",";
  csv += "seeds_ok,final_target_mean,final_target_std,zero_shot_mean,zero_shot_std,seconds_mean,forward_mean,"
         "backward_mean\n";
  for (const auto& g : report.groups) {
    for (const auto& a : report.axes) csv += "\"" + (g.point.count(a) ? unquote(g.point.at(a)) : "") + "\",";
    csv += fmt::format("{},{},{},{},{},{},{},{}\n", g.final_target.n, csv_num(g.final_target.mean),
                       csv_num(g.final_target.std), csv_num(g.zero_shot.mean), csv_num(g.zero_shot.std),
                       csv_num(g.seconds.mean), csv_num(g.forward.mean), csv_num(g.backward.mean));
  }
  return csv;
}

/// stages.csv: target accuracy per group and stage.
std::string stages_csv(const SweepReport& report) {
  std::string csv = "group,stage,target_mean,target_std,n\n";
  for (const auto& g : report.groups)
    for (std::size_t k = 0; k < g.stage_target.size(); ++k)
      csv += fmt::format("\"{}\",{},{},{},{}\n", g.label, k, csv_num(g.stage_target[k].mean),
                         csv_num(g.stage_target[k].std), g.stage_target[k].n);
  return csv;
}

json group_json(const ResultGroup& g) {
  json jg = {{"point", json::object()},
             {"label", g.label},
             {"final_target_accuracy", mean_std_json(g.final_target)},
             {"zero_shot_target_accuracy", mean_std_json(g.zero_shot)},
             {"seconds", mean_std_json(g.seconds)},
             {"forward_passes", mean_std_json(g.forward)},
             {"backward_passes", mean_std_json(g.backward)},
             {"stage_target_accuracy", json::array()},
             {"runs", json::array()}};
  for (const auto& [k, v] : g.point) jg["point"][k] = unquote(v);
  for (const auto& st : g.stage_target) jg["stage_target_accuracy"].push_back(mean_std_json(st));
  for (const auto& r : g.runs)
    jg["runs"].push_back({{"hash", r.hash}, {"seed", r.seed}, {"status", r.status}, {"error", r.error},
                          {"final_target_accuracy", r.final_target ? json(*r.final_target) : json(nullptr)}});
  return jg;
}

/// report.json: the axes and every group with its runs.
std::string report_json(const SweepReport& report) {
  json j = {{"context", context_json(report)}, {"axes", report.axes}, {"groups", json::array()}};
  for (const auto& g : report.groups) j["groups"].push_back(group_json(g));
  return j.dump(2) + "\n";
}

}  // namespace

std::string write_report(const std::string& dir, const SweepReport& report) {
  std::string md = "# Sweep report\n\n" + markdown_context(report) + markdown_groups(report) + markdown_stages(report) + markdown_problems(report);
  md += "\n" + plot(dir, report) + "\n";
  atomic_write(dir + "/report.md", md);
  atomic_write(dir + "/report.csv", groups_csv(report));
  atomic_write(dir + "/stages.csv", stages_csv(report));
  atomic_write(dir + "/report.json", report_json(report));
  return md;
}

}  // namespace gda
