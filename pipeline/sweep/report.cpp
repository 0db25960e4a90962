#include "pipeline/sweep/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/random.h"
#include "core/stopwatch.h"
#include "core/process.h"
#include "pipeline/run_record.h"
#include "pipeline/sweep/gnuplot_text.h"
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
  if (!fs::exists(summary_file)) throw std::runtime_error(summary_file + " is missing");
  const std::string summary = read_input_file(summary_file, kMaxInputFileBytes, "run summary");
  if (summary.empty()) throw std::runtime_error(summary_file + " is empty");
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
  const std::string stages_file = run_dir + "/stages.jsonl";
  std::istringstream in(fs::exists(stages_file) ? read_input_file(stages_file, 64 * kMaxInputFileBytes, "stage record")
                                                : std::string());
  int number = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // a blank line (an editor's last newline)
    std::map<std::string, double> acc, analysis;
    try {
      const json stage = json::parse(line);  // named: items() of a temporary would dangle
      for (const auto& [d, a] : stage.at("accuracy").items()) acc[d] = a.get<double>();
      if (const auto a = stage.find("analysis"); a != stage.end())
        for (const auto& [d, values] : a->items())
          for (const auto& [name, v] : values.items())
            if (v.is_number()) analysis[d + "/" + name] = v.get<double>();  // null: a non-finite value
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

// Plots people can read: the legend outside the plotting area, labels as the user wrote the
// values (gnuplot's enhanced text would turn fisher_sam into a subscript), the baseline in
// thick black, ± std bands over seeds, and past kMaxLines groups only the baseline, the best
// and the worst in the line plots, with every group in a ranked bar chart.
constexpr std::size_t kMaxLines = 8;
const char* kPlotHead = "set terminal pngcairo size 1100,600\nset termoption noenhanced\nset key outside right top\n"
                        "set grid\n";

/// A group's name in a plot: the compared axis's value alone, the other keys as key=value
/// (their last part: T=5). The user's text: quote it (gnuplot_text.h) before it reaches a script.
std::string plot_label(const SweepReport& report, const ResultGroup& g, const std::string& skip = "") {
  std::string label;
  for (const auto& a : report.axes) {
    if (a == skip || !g.point.count(a)) continue;
    const std::string value = unquote(g.point.at(a));
    label += (label.empty() ? "" : " ") +
             (a == report.compare_axis ? value : a.substr(a.rfind('.') + 1) + "=" + value);
  }
  return label.empty() ? "base config" : label;
}

bool is_baseline(const SweepReport& report, const ResultGroup& g) {
  return !report.compare_axis.empty() && g.point.count(report.compare_axis) &&
         g.point.at(report.compare_axis) == report.baseline;
}

/// gnuplot's style for line `i`: the baseline thick and black, the others by colour index.
std::string line_style(bool baseline, int i) {
  return baseline ? "lw 3 lc rgb 'black'" : fmt::format("lw 1.5 lc {}", i + 1);
}

/// The groups a line plot draws: all of them up to kMaxLines, else the baseline and the
/// best and worst three by final target accuracy.
std::vector<const ResultGroup*> drawn(const SweepReport& report, std::vector<const ResultGroup*> groups,
                                      bool& trimmed) {
  trimmed = groups.size() > kMaxLines;
  if (!trimmed) return groups;
  std::vector<const ResultGroup*> ranked;
  for (const auto* g : groups)
    if (g->final_target.mean && !is_baseline(report, *g)) ranked.push_back(g);
  std::sort(ranked.begin(), ranked.end(),
            [](const ResultGroup* a, const ResultGroup* b) { return *a->final_target.mean > *b->final_target.mean; });
  std::vector<const ResultGroup*> kept;
  for (const auto* g : groups)
    if (is_baseline(report, *g)) kept.push_back(g);
  for (std::size_t i = 0; i < ranked.size(); ++i)
    if (i < 3 || i + 3 >= ranked.size()) kept.push_back(ranked[i]);
  return kept;
}

/// Target accuracy after each stage, a line and a ± std band per group (at the largest T
/// when T is swept).
void plot_by_stage(const std::string& out, const SweepReport& report, bool has_t, std::string& made) {
  std::string max_t;
  if (has_t)
    for (const auto& g : report.groups)
      if (g.point.count("shift.T") && (max_t.empty() || std::stod(g.point.at("shift.T")) > std::stod(max_t)))
        max_t = g.point.at("shift.T");
  std::vector<const ResultGroup*> groups;
  for (const auto& g : report.groups)
    if (!g.stage_target.empty() && (!has_t || (g.point.count("shift.T") && g.point.at("shift.T") == max_t)))
      groups.push_back(&g);
  bool trimmed = false;
  groups = drawn(report, groups, trimmed);
  std::string data, lines;
  int block = 0;
  for (const auto* g : groups) {
    data += "# " + gnuplot_data_text(g->label) + "\n";
    for (std::size_t k = 0; k < g->stage_target.size(); ++k) {
      const MeanStd& m = g->stage_target[k];
      if (m.mean)
        data += fmt::format("{} {:.6f} {:.6f} {:.6f}\n", k, 100 * *m.mean, 100 * (*m.mean - m.std.value_or(0)),
                            100 * (*m.mean + m.std.value_or(0)));
    }
    data += "\n\n";
    const std::string style = line_style(is_baseline(report, *g), block);
    lines += fmt::format("{0}'by_stage.dat' index {1} using 1:3:4 with filledcurves fs transparent solid 0.12 "
                         "noborder {2} notitle, 'by_stage.dat' index {1} using 1:2 with linespoints {2} title {3}",
                         block ? ", " : "", block, style, gnuplot_quoted(plot_label(report, *g, "shift.T")));
    ++block;
  }
  if (!block) return;
  atomic_write(out + "/by_stage.dat", data);
  gnuplot(out, "accuracy_by_stage",
          fmt::format("{}set output 'accuracy_by_stage.png'\nset xlabel 'stage (0 = source model)'\nset xtics 1\n"
                      "set ylabel 'target accuracy (%), mean ± std over seeds'\n"
                      "set title {}\nplot {}\n",
                      kPlotHead,
                      gnuplot_quoted("Target accuracy after each stage" + (has_t ? " (T = " + max_t + ")" : "") +
                                     (trimmed ? "; baseline, best 3 and worst 3 (all in final_ranked.png)" : "")),
                      lines),
          made);
}

/// Final target accuracy against T with error bars, one line per series (the point without T).
void plot_by_t(const std::string& out, const SweepReport& report, std::string& made) {
  std::map<std::string, std::vector<const ResultGroup*>> series;
  std::map<std::string, bool> baseline;
  for (const auto& g : report.groups) {
    if (!g.point.count("shift.T")) continue;  // a [[points]] entry that leaves T to the base config
    const std::string name = plot_label(report, g, "shift.T");
    series[name].push_back(&g);
    baseline[name] = is_baseline(report, g);
  }
  std::string d, l;
  int i = 0;
  for (auto& [name, groups] : series) {
    std::sort(groups.begin(), groups.end(), [](const ResultGroup* a, const ResultGroup* b) {
      return std::stod(a->point.at("shift.T")) < std::stod(b->point.at("shift.T"));
    });
    d += "# " + gnuplot_data_text(name) + "\n";
    for (const auto* g : groups)
      if (g->final_target.mean)
        d += fmt::format("{} {:.6f} {:.6f}\n", gnuplot_data_text(g->point.at("shift.T")), 100 * *g->final_target.mean,
                         100 * g->final_target.std.value_or(0));
    d += "\n\n";
    l += fmt::format("{}'by_T.dat' index {} with yerrorlines {} title {}", i ? ", " : "", i,
                     line_style(baseline[name], i), gnuplot_quoted(name));
    ++i;
  }
  if (!i) return;
  atomic_write(out + "/by_T.dat", d);
  gnuplot(out, "accuracy_by_T",
          fmt::format("{}set output 'accuracy_by_T.png'\nset xlabel 'intermediate domains T'\n"
                      "set ylabel 'final target accuracy (%), mean ± std over seeds'\nset offsets 0.5,0.5,0,0\n"
                      "plot {}\n", kPlotHead, l),
          made);
}

/// Every group's final target accuracy, best first, with ± std error bars; the baseline black.
void plot_ranked(const std::string& out, const SweepReport& report, std::string& made) {
  std::vector<const ResultGroup*> ranked;
  for (const auto& g : report.groups)
    if (g.final_target.mean) ranked.push_back(&g);
  if (ranked.size() < 2) return;
  std::sort(ranked.begin(), ranked.end(),
            [](const ResultGroup* a, const ResultGroup* b) { return *a->final_target.mean > *b->final_target.mean; });
  std::string d;
  for (std::size_t i = 0; i < ranked.size(); ++i)
    d += fmt::format("{} {:.6f} {:.6f} {} \"{}\"\n", i, 100 * *ranked[i]->final_target.mean,
                     100 * ranked[i]->final_target.std.value_or(0), is_baseline(report, *ranked[i]) ? 0x000000 : 0x5b8db8,
                     gnuplot_data_text(plot_label(report, *ranked[i])));
  atomic_write(out + "/ranked.dat", d);
  gnuplot(out, "final_ranked",
          fmt::format("set terminal pngcairo size {},600\nset termoption noenhanced\nset grid ytics\n"
                      "set ylabel 'final target accuracy (%), mean ± std over seeds'\nset xtics rotate by -45\n"
                      "set style fill solid 0.6\nset boxwidth 0.7\nset xrange [-0.7:{}]\nset yrange [0:*]\n"
                      "set title 'Final target accuracy, best first (baseline in black)'\nset output 'final_ranked.png'\n"
                      "plot 'ranked.dat' using 1:2:4:xtic(5) with boxes lc rgb variable notitle, "
                      "'' using 1:2:3 with yerrorbars lc rgb 'black' pt 0 notitle\n",
                      std::max<std::size_t>(700, 60 * ranked.size() + 200), ranked.size() - 0.3),
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
  plot_ranked(out, report, made);
  return made.empty() ? "no plots: gnuplot failed (see plots/*.gp)" : made;
}

using StageMaps = std::vector<std::map<std::string, double>>;

/// Every name in the ok runs' per-stage maps `field` (stages.jsonl's accuracies by domain,
/// or [analysis] measurements), with its values per stage over the runs that have it there.
std::map<std::string, std::vector<std::vector<double>>> values_by_stage(const std::vector<RunResult>& runs,
                                                                        StageMaps RunResult::*field) {
  std::map<std::string, std::vector<std::vector<double>>> values;
  for (const auto& r : runs) {
    if (r.status != "ok") continue;
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

/// Means and stds over a group's runs that ended ok.
void summarise(ResultGroup& g) {
  std::vector<double> final_target, zero_shot, seconds, forward, backward;
  for (const auto& r : g.runs) {
    if (r.status != "ok") continue;
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
  for (const auto& values : accuracies["target"]) g.stage_target.push_back(MeanStd::of(values));
  for (const auto& [name, per_stage] : values_by_stage(g.runs, &RunResult::stage_analysis))
    for (const auto& values : per_stage) g.stage_analysis[name].push_back(MeanStd::of(values));
}

/// The sharpness measurements of the target, in the order the report prefers them.
const std::vector<std::string> kTargetSharpness = {"target/worst_case", "target/lambda_max",
                                                   "target/adaptive_worst_case", "target/average_case",
                                                   "target/trace"};

/// A run's measurement at its last stage, if it made it there.
std::optional<double> at_last_stage(const RunResult& r, const std::string& name) {
  if (r.stage_analysis.empty()) return std::nullopt;
  const auto& last = r.stage_analysis.back();
  const auto it = last.find(name);
  return it == last.end() ? std::nullopt : std::optional<double>(it->second);
}

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
        if (r.status != "ok" || !x || !r.final_target) continue;
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

double t_quantile_975(std::size_t df) {
  // t(0.975, df) to 3 decimals for df ≤ 30 (the usual seed counts); beyond, the
  // Cornish–Fisher expansion around z = 1.95996, within 2e-4 there.
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
                                 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  if (df == 0) return std::numeric_limits<double>::infinity();
  if (df <= 30) return table[df - 1];
  const double z = 1.959964, v = double(df);
  return z + (z * z * z + z) / (4 * v) + (5 * std::pow(z, 5) + 16 * z * z * z + 3 * z) / (96 * v * v);
}

MeanCi MeanCi::bootstrap(const std::vector<double>& v, std::uint64_t seed, int resamples) {
  MeanCi m;
  const MeanStd s = MeanStd::of(v);
  m.n = s.n;
  m.mean = s.mean;
  if (v.size() < 2 || resamples < 1) return m;
  Rng rng(seed);
  std::vector<double> means(std::size_t(resamples), 0.0);
  for (auto& mean : means) {
    // rng() % n, as permutation() draws: the same with any standard library (bias < n/2⁶⁴).
    for (std::size_t i = 0; i < v.size(); ++i) mean += v[rng() % v.size()];
    mean /= double(v.size());
  }
  std::sort(means.begin(), means.end());
  m.low = means[std::size_t(std::floor(0.025 * resamples))];
  m.high = means[std::size_t(std::ceil(0.975 * resamples)) - 1];
  return m;
}

MeanCi MeanCi::of(const std::vector<double>& v) {
  MeanCi m;
  const MeanStd s = MeanStd::of(v);
  m.n = s.n;
  m.mean = s.mean;
  if (s.std) {
    const double half = t_quantile_975(v.size() - 1) * *s.std / std::sqrt(double(v.size()));
    m.low = *s.mean - half;
    m.high = *s.mean + half;
  }
  return m;
}

namespace {

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
      if (r.status == "ok" && r.final_target) base_by_seed[r.seed] = *r.final_target;
    std::vector<double> differences;
    for (const auto& r : g.runs)
      if (r.status == "ok" && r.final_target && base_by_seed.count(r.seed))
        differences.push_back(*r.final_target - base_by_seed.at(r.seed));
    g.vs_baseline = report.interval == "bootstrap"
                        ? MeanCi::bootstrap(differences, derive_seed(0, "report/bootstrap/" + g.label))
                        : MeanCi::of(differences);
  }
}

}  // namespace

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
    if (r.status == "ok") ++report.ok;
    else if (r.status == "failed") ++report.failed;
    else if (r.status == "error") ++report.errors;
    else ++report.not_run;
    report.groups[it->second].runs.push_back(std::move(r));
  }
  for (auto& g : report.groups) summarise(g);
  compare_with_baseline(report);
  relate_sharpness_to_accuracy(report);
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

/// "+2.1 [−1.0, 5.2]" in points of accuracy; "*" where the interval excludes 0.
std::string difference_text(const std::optional<MeanCi>& d) {
  if (!d || !d->mean) return "";
  if (!d->low) return fmt::format("{:+.1f} (n = 1)", 100 * *d->mean);
  return fmt::format("{:+.1f} [{:+.1f}, {:+.1f}]{}", 100 * *d->mean, 100 * *d->low, 100 * *d->high,
                     d->excludes_zero() ? " *" : "");
}

/// What the Δ column means, under the table.
std::string difference_legend(const SweepReport& report) {
  if (report.compare_axis.empty()) return "";
  return fmt::format("\nΔ: final target accuracy minus that of {} = {} on the same seeds (so the same source "
                     "models), mean over the seeds where both ended ok with its 95 % {}; * where the interval "
                     "excludes 0. Set by [compare] in the sweep file.\n",
                     report.compare_axis, unquote(report.baseline),
                     report.interval == "bootstrap"
                         ? "paired percentile-bootstrap interval (10,000 resamples of the seeds' differences)"
                         : "t-interval (n − 1 degrees of freedom)");
}

/// Which plan the report is of and what made its runs and itself.
std::string markdown_context(const SweepReport& report) {
  const BuildInfo b = build_info();
  return fmt::format("Plan {} of {}, {} threads per job.  \nRuns made on: {}.  \nRuns made by: {}.  \n"
                     "Report made {} by gda {} (commit {}, LibTorch {}).\n\n",
                     report.plan_hash, report.sweep_file, report.threads_per_job, counted(report.hosts),
                     counted(report.builds), utc_now_iso(), b.gda, b.commit, b.libtorch);
}

json context_json(const SweepReport& report) {
  const BuildInfo b = build_info();
  return {{"plan_hash", report.plan_hash}, {"sweep_file", report.sweep_file},
          {"threads_per_job", report.threads_per_job}, {"hosts", report.hosts}, {"runs_made_by", report.builds},
          {"devices", report.devices}, {"made", utc_now_iso()}, {"gda", b.gda}, {"commit", b.commit},
          {"libtorch", b.libtorch}};
}

std::string markdown_groups(const SweepReport& report) {
  std::string md = fmt::format("{} runs: {} ok, {} failed (numeric), {} errors, {} not run; {} source models trained.\n"
                               "Accuracies in %, mean ± sample std over the seeds that finished ok (their number "
                               "is \"seeds ok\").\n\n",
                               report.ok + report.failed + report.errors + report.not_run, report.ok, report.failed,
                               report.errors, report.not_run, report.source_models);
  for (const auto& [device, runs] : report.devices) md += fmt::format("Device: {} ({} runs).  \n", device, runs);
  if (!report.devices.empty()) md += "\n";
  std::string head = "|", rule = "|";
  for (const auto& a : report.axes) head += " " + a + " |", rule += "---|";
  const bool compared = !report.compare_axis.empty();
  const std::string delta = compared ? fmt::format(" Δ vs {} |", unquote(report.baseline)) : "";
  md += head + " seeds ok | final target |" + delta + " zero-shot target | wall s per run | fwd / bwd passes per run |\n";
  md += rule + "---|---|" + (compared ? "---|" : "") + "---|---|---|\n";
  for (const auto& g : report.groups) {
    std::string row = "|";
    for (const auto& a : report.axes) row += " " + (g.point.count(a) ? unquote(g.point.at(a)) : "") + " |";
    md += row + fmt::format(" {}/{} | {} |{} {} | {} | {} |\n", g.final_target.n, g.runs.size(), pct(g.final_target),
                            compared ? " " + difference_text(g.vs_baseline) + " |" : "",
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

/// The measurement keys of the groups ("domain/name"), sorted, without the iteration counts.
std::vector<std::string> measurement_names(const SweepReport& report) {
  std::set<std::string> names;
  for (const auto& g : report.groups)
    for (const auto& [name, _] : g.stage_analysis)
      if (name.find("_iterations") == std::string::npos) names.insert(name);
  return {names.begin(), names.end()};
}

std::string correlation_text(const std::optional<RankCorrelation>& c) {
  return c ? fmt::format("{:+.2f} (p = {:.2g}, n = {})", c->rho, c->p_value, c->n) : "- (fewer than 3, or constant)";
}

/// [analysis]: every measurement at each group's last stage (mean ± std over seeds), and
/// Spearman's ρ of target sharpness against final target accuracy; "" without analysis.
std::string markdown_analysis(const SweepReport& report) {
  const auto names = measurement_names(report);
  if (names.empty()) return "";
  std::string md = "\n## Analysis (docs/ANALYSIS.md)\n\nAt each group's last stage, mean ± sample std over the "
                   "seeds that measured it (every stage: analysis_stages.csv).\n\n| measurement |";
  for (const auto& g : report.groups) md += " " + g.label + " |";
  md += "\n|---|";
  for (std::size_t i = 0; i < report.groups.size(); ++i) md += "---|";
  md += "\n";
  for (const auto& name : names) {
    md += "| " + name + " |";
    for (const auto& g : report.groups) {
      const auto it = g.stage_analysis.find(name);
      const MeanStd* m = it == g.stage_analysis.end() || it->second.empty() ? nullptr : &it->second.back();
      md += " " + (m && m->mean ? (m->std ? fmt::format("{:.4g} ± {:.2g}", *m->mean, *m->std) : fmt::format("{:.4g}", *m->mean))
                                : std::string("-")) + " |";
    }
    md += "\n";
  }
  if (!report.sharpness_vs_accuracy.empty()) {
    md += "\nDoes sharpness at the last stage rank the runs as their final target accuracy does? Spearman's ρ "
          "(two-sided p from Student's t with n − 2 degrees of freedom; ρ < 0: flatter runs adapt better):\n\n"
          "| target sharpness | ρ over runs | ρ over group means |\n|---|---|---|\n";
    for (const auto& m : report.sharpness_vs_accuracy)
      md += fmt::format("| {} | {} | {} |\n", m.measurement, correlation_text(m.over_runs),
                        correlation_text(m.over_groups));
  }
  return md;
}

/// plots/analysis_<measure>.png: the measurement against the stage, a panel per domain
/// (`keys`: its "domain/measure" names), a line with a ± std band per group.
void plot_measurement_by_stage(const std::string& out, const SweepReport& report, const std::string& measure,
                               const std::vector<std::string>& keys, const std::vector<const ResultGroup*>& groups,
                               bool trimmed, std::string& made) {
  // Equal panels on the left two thirds; the legend in the third to their right.
  std::string data, script = fmt::format("set terminal pngcairo size {},500\nset termoption noenhanced\nset grid\n"
                                         "set output 'analysis_{}.png'\nset multiplot layout 1,{} margins 0.06,0.69,"
                                         "0.12,0.86 spacing 0.07,0 title {}\n",
                                         480 * keys.size() + 520, measure, keys.size(),
                                         gnuplot_quoted(measure + " after each stage, mean ± std over seeds" +
                                                        (trimmed ? " (baseline, best 3, worst 3)" : "")));
  int block = 0;
  for (std::size_t p = 0; p < keys.size(); ++p) {
    const bool last_panel = p + 1 == keys.size();  // the legend goes beside the last panel
    std::string lines;
    for (std::size_t i = 0; i < groups.size(); ++i) {
      data += "# " + gnuplot_data_text(groups[i]->label + " " + keys[p]) + "\n";
      const auto it = groups[i]->stage_analysis.find(keys[p]);
      if (it != groups[i]->stage_analysis.end())
        for (std::size_t k = 0; k < it->second.size(); ++k)
          if (const MeanStd& m = it->second[k]; m.mean)
            data += fmt::format("{} {:.8g} {:.8g} {:.8g}\n", k, *m.mean, *m.mean - m.std.value_or(0),
                                *m.mean + m.std.value_or(0));
      data += "\n\n";
      const std::string style = line_style(is_baseline(report, *groups[i]), int(i));
      const std::string title = last_panel ? "title " + gnuplot_quoted(plot_label(report, *groups[i])) : "notitle";
      lines += fmt::format("{0}'analysis_{1}.dat' index {2} using 1:3:4 with filledcurves fs transparent solid 0.12 "
                           "noborder {3} notitle, 'analysis_{1}.dat' index {2} using 1:2 with linespoints {3} {4}",
                           i ? ", " : "", measure, block++, style, title);
    }
    script += fmt::format("set title {}\nset xlabel 'stage (0 = source model)'\nset key {}\nplot {}\n",
                          gnuplot_quoted(keys[p].substr(0, keys[p].find('/'))), last_panel ? "on at screen 0.71,0.86 left top Left reverse" : "off",
                          lines);
  }
  atomic_write(out + "/analysis_" + measure + ".dat", data);
  gnuplot(out, "analysis_" + measure, script + "unset multiplot\n", made);
}

/// plots/sharpness_vs_accuracy.png: each run's last-stage target sharpness (the first of
/// report.sharpness_vs_accuracy) against its final target accuracy, a colour per group.
void plot_sharpness_vs_accuracy(const std::string& out, const SweepReport& report, std::string& made) {
  const auto& m = report.sharpness_vs_accuracy.front();
  std::string data, points;
  int block = 0;
  for (const auto& g : report.groups) {
    data += "# " + gnuplot_data_text(g.label) + "\n";
    for (const auto& r : g.runs)
      if (const auto x = at_last_stage(r, m.measurement); x && r.status == "ok" && r.final_target)
        data += fmt::format("{:.8g} {:.6f}\n", *x, 100 * *r.final_target);
    data += "\n\n";
    points += fmt::format("{}'sharpness_vs_accuracy.dat' index {} with points pt 7 ps 1.3 {} title {}",
                          block ? ", " : "", block,
                          is_baseline(report, g) ? "lc rgb 'black'" : fmt::format("lc {}", block + 1),
                          gnuplot_quoted(plot_label(report, g)));
    ++block;
  }
  atomic_write(out + "/sharpness_vs_accuracy.dat", data);
  gnuplot(out, "sharpness_vs_accuracy",
          fmt::format("{}set output 'sharpness_vs_accuracy.png'\nset xlabel {}\n"
                      "set ylabel 'final target accuracy (%)'\nset title {}\n"
                      "plot {}\n", kPlotHead, gnuplot_quoted(m.measurement + " at the last stage"),
                      gnuplot_quoted("One point per run; Spearman rho " + correlation_text(m.over_runs)), points),
          made);
}

/// The [analysis] plots (docs/SWEEPS.md); returns what was made.
std::string plot_analysis(const std::string& dir, const SweepReport& report) {
  const auto names = measurement_names(report);
  if (names.empty() || !on_path("gnuplot")) return "";
  const std::string out = dir + "/plots";
  fs::create_directories(out);
  std::map<std::string, std::vector<std::string>> panels;  // measurement → its "domain/measurement" keys
  for (const auto& n : names) panels[n.substr(n.find('/') + 1)].push_back(n);
  std::vector<const ResultGroup*> measured;
  for (const auto& g : report.groups)
    if (!g.stage_analysis.empty()) measured.push_back(&g);
  bool trimmed = false;
  const auto groups = drawn(report, measured, trimmed);
  std::string made;
  auto stages_measured = [&](const std::vector<std::string>& keys) {  // the most stages any group measured
    std::size_t most = 0;
    for (const auto* g : groups)
      for (const auto& key : keys)
        if (const auto it = g->stage_analysis.find(key); it != g->stage_analysis.end())
          most = std::max<std::size_t>(most, std::count_if(it->second.begin(), it->second.end(),
                                                           [](const MeanStd& m) { return m.mean.has_value(); }));
    return most;
  };
  // A line needs two stages ("last" alone: the table and the scatter); a name read back from
  // an edited stages.jsonl that could not be part of a file name is left out.
  for (const auto& [measure, keys] : panels)
    if (stages_measured(keys) >= 2 && plain_file_name_part(measure)) plot_measurement_by_stage(out, report, measure, keys, groups, trimmed, made);
  if (!report.sharpness_vs_accuracy.empty()) plot_sharpness_vs_accuracy(out, report, made);
  return made;
}

/// analysis_stages.csv: every measurement per group and stage.
std::string analysis_csv(const SweepReport& report) {
  std::string csv = "group,stage,measurement,mean,std,n\n";
  for (const auto& g : report.groups)
    for (const auto& [name, per_stage] : g.stage_analysis)
      for (std::size_t k = 0; k < per_stage.size(); ++k)
        if (per_stage[k].mean)
          csv += fmt::format("\"{}\",{},{},{},{},{}\n", g.label, k, name, csv_num(per_stage[k].mean),
                             csv_num(per_stage[k].std), per_stage[k].n);
  return csv;
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
         "backward_mean,vs_baseline_mean,vs_baseline_ci95_low,vs_baseline_ci95_high,vs_baseline_n\n";
  for (const auto& g : report.groups) {
    for (const auto& a : report.axes) csv += "\"" + (g.point.count(a) ? unquote(g.point.at(a)) : "") + "\",";
    const MeanCi d = g.vs_baseline.value_or(MeanCi{});
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", g.final_target.n, csv_num(g.final_target.mean),
                       csv_num(g.final_target.std), csv_num(g.zero_shot.mean), csv_num(g.zero_shot.std),
                       csv_num(g.seconds.mean), csv_num(g.forward.mean), csv_num(g.backward.mean), csv_num(d.mean),
                       csv_num(d.low), csv_num(d.high), g.vs_baseline ? std::to_string(d.n) : "");
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
  if (!g.stage_analysis.empty()) {
    json a = json::object();
    for (const auto& [name, per_stage] : g.stage_analysis)
      for (const auto& m : per_stage) a[name].push_back(mean_std_json(m));
    jg["stage_analysis"] = a;
  }
  if (g.vs_baseline) {
    auto num = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
    jg["final_target_vs_baseline"] = {{"mean", num(g.vs_baseline->mean)}, {"ci95_low", num(g.vs_baseline->low)},
                                      {"ci95_high", num(g.vs_baseline->high)}, {"n", g.vs_baseline->n}};
  }
  for (const auto& r : g.runs)
    jg["runs"].push_back({{"hash", r.hash}, {"seed", r.seed}, {"status", r.status}, {"error", r.error},
                          {"final_target_accuracy", r.final_target ? json(*r.final_target) : json(nullptr)}});
  return jg;
}

/// report.json: the axes and every group with its runs.
std::string report_json(const SweepReport& report) {
  json j = {{"context", context_json(report)}, {"axes", report.axes}, {"compare_axis", report.compare_axis},
            {"baseline", report.baseline.empty() ? "" : unquote(report.baseline)}, {"groups", json::array()}};
  for (const auto& g : report.groups) j["groups"].push_back(group_json(g));
  auto correlation = [](const std::optional<RankCorrelation>& c) {
    return c ? json{{"rho", c->rho}, {"p_value", c->p_value}, {"n", c->n}} : json(nullptr);
  };
  for (const auto& m : report.sharpness_vs_accuracy)
    j["sharpness_vs_accuracy"].push_back(
        {{"measurement", m.measurement}, {"over_runs", correlation(m.over_runs)}, {"over_groups", correlation(m.over_groups)}});
  return j.dump(2) + "\n";
}

}  // namespace

namespace {

std::string unwritten(const std::string& dir, const std::string& why) {
  return "\nThe report's files could not be written in " + dir + " (" + why + "): this printed copy is the only one.\n";
}

}  // namespace

std::string write_report(const std::string& dir, const SweepReport& report) {
  std::string md = "# Sweep report\n\n" + markdown_context(report) + markdown_groups(report) + difference_legend(report) +
                   markdown_stages(report) + markdown_analysis(report) + markdown_problems(report);
  // A folder that cannot be written (read-only, a full disk) still gets its report, printed.
  try {
    std::string plots = "\n" + plot(dir, report) + "\n";
    if (const std::string analysis_plots = plot_analysis(dir, report); !analysis_plots.empty())
      plots += "\nAnalysis plots: " + analysis_plots + "\n";
    atomic_write(dir + "/report.md", md + plots);
    atomic_write(dir + "/report.csv", groups_csv(report));
    atomic_write(dir + "/stages.csv", stages_csv(report));
    atomic_write(dir + "/report.json", report_json(report));
    if (!measurement_names(report).empty()) atomic_write(dir + "/analysis_stages.csv", analysis_csv(report));
    return md + plots;
  } catch (const UserError& e) {  // from atomic_write
    return md + unwritten(dir, e.what());
  } catch (const fs::filesystem_error& e) {  // from making plots/
    return md + unwritten(dir, e.what());
  }
}

}  // namespace gda
