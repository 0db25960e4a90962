#pragma once
// The report of a sweep folder: runs grouped by their point without the seed, mean ± sample
// std over seeds of the final target accuracy, per-stage accuracies, wall time and passes;
// as report.md, report.csv, stages.csv and report.json, and PNG plots through gnuplot.
// Made from the result files alone, so it can be re-made at any time.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pipeline/run_status.h"
#include "pipeline/sweep/rank_correlation.h"

namespace gda {

struct MeanStd {
  std::optional<double> mean, std;  ///< std: the sample std (n − 1), none below 2 values
  std::size_t n = 0;
  static MeanStd of(const std::vector<double>& values);
};

/// A mean with its 95 % confidence interval from Student's t (n − 1 degrees of freedom);
/// no interval below 2 values.
struct MeanCi {
  std::optional<double> mean, low, high;
  std::size_t n = 0;
  static MeanCi of(const std::vector<double>& values);
  /// The paired percentile bootstrap: the 2.5th and 97.5th percentiles of the means of
  /// `resamples` resamples of the values with replacement, drawn from `seed`.
  static MeanCi bootstrap(const std::vector<double>& values, std::uint64_t seed, int resamples = 10000);
  bool excludes_zero() const { return low && (*low > 0 || *high < 0); }
};

/// Student's t quantile for a two-sided 95 % interval: t(0.975, df), df ≥ 1.
double t_quantile_975(std::size_t df);

struct RunResult {
  std::string hash, seed;
  std::optional<RunStatus> status;  ///< ok, failed (numeric), error; none: not run
  bool ok() const { return status == RunStatus::ok; }
  /// The status's word: summary.json's, or "not run".
  std::string status_word() const { return status ? status_name(*status) : "not run"; }
  std::string error;
  std::string device;  ///< where it ran (summary.json; "" for runs from before devices)
  std::string host;    ///< the machine it ran on, and the gda that ran it ("" for older runs)
  std::string made_by;
  std::optional<double> final_target, zero_shot;
  double seconds = 0;
  double forward = 0, backward = 0;
  std::vector<std::map<std::string, double>> stage_accuracy;  ///< per stage: domain → accuracy
  /// The name of the path's last domain (summary.json's target_domain; "target", the built-in
  /// generators' name, for runs from before it was recorded).
  std::string target_domain = "target";
  /// per stage: "domain/measurement" → value ([analysis]; empty maps for stages not measured)
  std::vector<std::map<std::string, double>> stage_analysis;
};

struct ResultGroup {
  std::map<std::string, std::string> point;  ///< the swept keys except seed
  std::string label;
  std::vector<RunResult> runs;
  MeanStd final_target, zero_shot, seconds, forward, backward;
  std::vector<MeanStd> stage_target;  ///< target accuracy per stage, over the ok runs
  /// Final target accuracy minus the baseline's (SweepReport::baseline_label), paired by
  /// seed over the seeds where both ended ok; none for the baseline itself or without one.
  std::optional<MeanCi> vs_baseline;
  /// [analysis]: "domain/measurement" → per stage, over the ok runs that measured it.
  std::map<std::string, std::vector<MeanStd>> stage_analysis;
};

/// Does a measurement at the last stage rank the runs as their final target accuracy does?
struct MeasurementVsAccuracy {
  std::string measurement;  ///< "target/worst_case", …
  std::optional<RankCorrelation> over_runs, over_groups;  ///< every ok run; the groups' means
};

struct SweepReport {
  std::vector<std::string> axes;  ///< swept keys except seed
  std::vector<ResultGroup> groups;
  int ok = 0, failed = 0, errors = 0, not_run = 0, source_models = 0;
  std::map<std::string, int> devices;  ///< device → finished runs on it
  /// The context block: which plan, and what made the runs (host, gda build → finished runs).
  std::string sweep_file, plan_hash;
  std::string compare_axis, baseline;  ///< from the plan ([compare]); baseline as TOML text
  std::string interval = "t";          ///< "t" or "bootstrap" ([compare] interval)
  int threads_per_job = 1;
  std::map<std::string, int> hosts, builds;
  std::vector<MeasurementVsAccuracy> sharpness_vs_accuracy;  ///< one per target sharpness measured
};

/// Reads the results of the sweep in `dir`.
SweepReport collect_report(const std::string& dir);

/// Writes report.md/.csv/.json and stages.csv into dir, and plots/ when gnuplot is there.
/// Returns the Markdown.
std::string write_report(const std::string& dir, const SweepReport& report);

}  // namespace gda
