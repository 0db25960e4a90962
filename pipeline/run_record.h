#pragma once
// What a run reports: the stages' records (stages/train/stage_record.h), a summary, and the files they go to
// (stages.jsonl, summary.json, table.md in the run directory; all written atomically).
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/files.h"
#include "pipeline/run_status.h"
#include "stages/train/stage_record.h"

namespace gda {

struct Timings {
  double data = 0, source = 0, adaptation = 0, evaluation = 0, analysis = 0, total = 0;
};


struct RunSummary {
  RunStatus status = RunStatus::running;
  std::string error;
  std::string config_hash;
  std::int64_t seed = 0;
  int threads = 0, train_threads = 0, eval_threads = 0;
  std::string device;  ///< what the run trained on, e.g. "cuda:0 (NVIDIA H200, CUDA 13.0, LibTorch 2.11.0)"
  std::string host, started;  ///< the machine's name and the start time (UTC, ISO 8601)
  bool source_reused = false;  ///< the source model was loaded, not trained (a sweep's shared one)
  std::string target_domain;  ///< the name of the path's last domain, the target (found by position)
  std::optional<double> zero_shot_target_accuracy;
  std::optional<double> final_target_accuracy;
  Timings seconds;
  PassCount passes;
};

/// One stage as a line of stages.jsonl, and back (accuracies come back without positions).
/// What made a result: gda's version, the commit its build was configured from, LibTorch's version.
struct BuildInfo {
  std::string gda, commit, libtorch;
};
BuildInfo build_info();

std::string stage_json_line(const StageRecord& r);
StageRecord stage_from_json_line(const std::string& line);

/// What a stage line measured: its accuracies, by domain name (positions are not stored), and
/// its [analysis] values (a null, written for a value that was not a finite number, is left
/// out). Only the fields every version of gda has written, so a sweep report reads old folders
/// through it; stage_from_json_line reads them the same way.
struct StageMeasurements {
  std::vector<DomainAccuracy> accuracies;
  std::vector<Measurement> analysis;
};
StageMeasurements stage_measurements_from_json_line(const std::string& line);

/// Writes a run's records into its directory as they arrive.
class RunRecorder {
 public:
  /// Creates dir (and parents) and locks it (kLockFile) while the recorder lives. Refuses a
  /// folder that is not empty and holds no earlier run, and one another run is writing.
  /// `console` gets the human-readable table rows.
  RunRecorder(std::string dir, std::ostream* console);
  ~RunRecorder();
  static constexpr const char* kLockFile = "run.lock";
  const std::string& dir() const { return dir_; }

  /// config.resolved.toml, then a fresh log.txt: call it first.
  void write_config(const std::string& resolved_toml);
  void add_stage(const StageRecord& r);  ///< appends to stages.jsonl, refreshes table.md
  void finish(const RunSummary& s);      ///< summary.json, final table.md
  void log(const std::string& line);     ///< appends to log.txt and echoes to the console

  const std::vector<StageRecord>& stages() const { return stages_; }

  /// The Markdown table of the stages so far (and of the summary, when given).
  std::string markdown(const RunSummary* s) const;

 private:
  std::string dir_;
  std::ostream* console_;
  std::unique_ptr<FileLock> lock_;
  bool replaced_ = false;  ///< an earlier run's results were removed (said once the log starts)
  bool log_failed_ = false;
  std::vector<StageRecord> stages_;
  std::string jsonl_;
};

}  // namespace gda
