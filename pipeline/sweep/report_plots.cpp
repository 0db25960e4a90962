// The report's PNG plots through gnuplot: a script and a data file per plot in DIR/plots.
// Every text of the user's goes through gnuplot_text.h, so gnuplot runs nothing of it.
#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "core/files.h"
#include "core/process.h"
#include "pipeline/sweep/gnuplot_text.h"
#include "pipeline/sweep/report_parts.h"

namespace gda {
namespace sweep_report {

namespace fs = std::filesystem;
namespace {

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

/// T as a number; none for a group without it, or with a value an edited plan.json made
/// something else.
std::optional<double> schedule_length(const std::string& text) {
  char* end = nullptr;
  const double t = std::strtod(text.c_str(), &end);
  return !text.empty() && *end == '\0' ? std::optional<double>(t) : std::nullopt;
}
std::optional<double> schedule_length(const ResultGroup& g) {
  return g.point.count(kScheduleKey) ? schedule_length(g.point.at(kScheduleKey)) : std::nullopt;
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
      if (const auto t = schedule_length(g); t && (max_t.empty() || *t > *schedule_length(max_t)))
        max_t = g.point.at(kScheduleKey);
  std::vector<const ResultGroup*> groups;
  for (const auto& g : report.groups)
    if (!g.stage_target.empty() && (!has_t || (g.point.count(kScheduleKey) && g.point.at(kScheduleKey) == max_t)))
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
                         block ? ", " : "", block, style, gnuplot_quoted(plot_label(report, *g, kScheduleKey)));
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
    if (!schedule_length(g)) continue;  // a [[points]] entry that leaves T to the base config
    const std::string name = plot_label(report, g, kScheduleKey);
    series[name].push_back(&g);
    baseline[name] = is_baseline(report, g);
  }
  std::string d, l;
  int i = 0;
  for (auto& [name, groups] : series) {
    std::sort(groups.begin(), groups.end(), [](const ResultGroup* a, const ResultGroup* b) {
      return *schedule_length(*a) < *schedule_length(*b);
    });
    d += "# " + gnuplot_data_text(name) + "\n";
    for (const auto* g : groups)
      if (g->final_target.mean)
        d += fmt::format("{} {:.6f} {:.6f}\n", gnuplot_data_text(g->point.at(kScheduleKey)), 100 * *g->final_target.mean,
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
      if (const auto x = at_last_stage(r, m.measurement); x && r.ok() && r.final_target)
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

}  // namespace

bool is_baseline(const SweepReport& report, const ResultGroup& g) {
  return !report.compare_axis.empty() && g.point.count(report.compare_axis) &&
         g.point.at(report.compare_axis) == report.baseline;
}

/// Plots through gnuplot; returns what was made (or why not).
std::string plot(const std::string& dir, const SweepReport& report) {
  if (!on_path("gnuplot"))
    return "no plots: gnuplot is not installed (apt-get install gnuplot-nox)";
  const std::string out = dir + "/plots";
  fs::create_directories(out);
  std::string made;
  const bool has_t = std::count(report.axes.begin(), report.axes.end(), kScheduleKey) > 0;
  plot_by_stage(out, report, has_t, made);
  if (has_t) plot_by_t(out, report, made);
  plot_ranked(out, report, made);
  return made.empty() ? "no plots: gnuplot failed (see plots/*.gp)" : made;
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

}  // namespace sweep_report

}  // namespace gda
