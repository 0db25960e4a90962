#pragma once
// The parts of a sweep report (pipeline/sweep/report.h), one concern a file, as
// google/benchmark keeps its statistics apart from one reporter per format:
//   report_collect.cpp     reading the result folders into groups, and their statistics
//   report_statistics.cpp  mean ± std, t- and bootstrap intervals
//   report_markdown.cpp    report.md
//   report_tables.cpp      report.csv, stages.csv, analysis_stages.csv, report.json
//   report_plots.cpp       the PNG plots through gnuplot
//   report.cpp             write_report: every part into the sweep folder
// What more than one part needs is declared here.
#include <optional>
#include <string>
#include <vector>

#include "pipeline/sweep/report.h"

namespace gda::sweep_report {

/// The key of the schedule's length, the axis the plots against T use.
inline constexpr const char* kScheduleKey = "shift.T";

/// A point's value as the user wrote it: TOML text, a string's quotes removed.
std::string unquote(const std::string& v);

/// A run's measurement ("domain/name") at its last stage, if it made it there.
std::optional<double> at_last_stage(const RunResult& r, const std::string& name);

/// Whether the group holds the compared axis's baseline value.
bool is_baseline(const SweepReport& report, const ResultGroup& g);

/// The measurement keys of the groups ("domain/name"), sorted, without the iteration counts.
std::vector<std::string> measurement_names(const SweepReport& report);

/// ρ with its p-value and n, or why there is none.
std::string correlation_text(const std::optional<RankCorrelation>& c);

/// report.md's text (without the plots' line).
std::string report_markdown(const SweepReport& report);

/// report.csv: one row per group.
std::string groups_csv(const SweepReport& report);
/// stages.csv: target accuracy per group and stage.
std::string stages_csv(const SweepReport& report);
/// analysis_stages.csv: every measurement per group and stage.
std::string analysis_csv(const SweepReport& report);
/// report.json: the context, the axes and every group with its runs.
std::string report_json(const SweepReport& report);

/// The plots through gnuplot, into DIR/plots; what was made (or why not).
std::string plot(const std::string& dir, const SweepReport& report);
/// The [analysis] plots; what was made ("" without analysis or gnuplot).
std::string plot_analysis(const std::string& dir, const SweepReport& report);

}  // namespace gda::sweep_report
