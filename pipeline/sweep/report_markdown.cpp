// report.md: the context block, the table of groups with their paired differences, the
// per-stage table, the analysis section and the runs without a result.
#include <fmt/format.h>

#include <set>

#include "core/stopwatch.h"
#include "pipeline/run_record.h"
#include "pipeline/sweep/report_parts.h"

namespace gda {
namespace sweep_report {

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

namespace {

std::string pct(const MeanStd& m) {
  if (!m.mean) return "-";
  return m.std ? fmt::format("{:.1f} ± {:.1f}", 100 * *m.mean, 100 * *m.std) : fmt::format("{:.1f}", 100 * *m.mean);
}

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

/// "Runs without a result": every run that did not end ok, with its error; "" if none.

std::string markdown_problems(const SweepReport& report) {
  std::string problems;
  for (const auto& g : report.groups)
    for (const auto& r : g.runs)
      if (!r.ok())
        problems += fmt::format("- {} seed {} ({}): {}{}\n", g.label, r.seed, r.hash, r.status_word(),
                                r.error.empty() ? "" : " — " + r.error);
  return problems.empty() ? "" : "\nRuns without a result:\n\n" + problems;
}

}  // namespace

std::string report_markdown(const SweepReport& report) {
  return "# Sweep report\n\n" + markdown_context(report) + markdown_groups(report) + difference_legend(report) +
         markdown_stages(report) + markdown_analysis(report) + markdown_problems(report);
}

}  // namespace sweep_report
}  // namespace gda
