#pragma once
// What a run reports: one record per stage, a summary, and the files they go to
// (stages.jsonl, summary.json, table.md in the run directory; all written atomically).
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "stages/optim/step_context.h"

namespace gda {

struct DomainAccuracy {
  std::string domain;
  double position = 0;
  double accuracy = 0;
};

/// Stage 0 is source training; stage k ≥ 1 is self-training on the k-th domain after the
/// source (the intermediates in order, including any a generator makes in the adaptation
/// loop, then the target).
struct StageRecord {
  int stage = 0;
  std::string domain;       ///< the domain trained on
  double position = 0;      ///< its position on the path
  std::int64_t samples = 0;          ///< samples trained on (after the confidence filter)
  std::int64_t domain_size = 0;      ///< samples in the domain
  std::optional<double> pseudo_label_accuracy;  ///< of the kept labels, vs the true ones (never used for training)
  std::optional<double> mass;  ///< total sample weight of a weighted domain (ot_path: the plan's mass, 1)
  double loss = 0;          ///< mean training loss in the last epoch
  double train_seconds = 0;
  double eval_seconds = 0;
  PassCount passes;
  std::vector<DomainAccuracy> accuracies;  ///< per evaluated domain, in path order

  std::optional<double> accuracy_of(const std::string& domain) const;
};

struct Timings {
  double data = 0, source = 0, adaptation = 0, evaluation = 0, total = 0;
};

struct RunSummary {
  std::string status = "running";  ///< "ok" or "failed"
  std::string error;
  std::string config_hash;
  std::int64_t seed = 0;
  int threads = 0, train_threads = 0, eval_threads = 0;
  bool source_reused = false;  ///< the source model was loaded, not trained (a sweep's shared one)
  std::optional<double> zero_shot_target_accuracy;
  std::optional<double> final_target_accuracy;
  Timings seconds;
  PassCount passes;
};

/// One stage as a line of stages.jsonl, and back (accuracies come back without positions).
std::string stage_json_line(const StageRecord& r);
StageRecord stage_from_json_line(const std::string& line);

/// Writes a run's records into its directory as they arrive.
class RunRecorder {
 public:
  /// Creates dir (and parents). `console` gets the human-readable table rows.
  RunRecorder(std::string dir, std::ostream* console);
  const std::string& dir() const { return dir_; }

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
  std::vector<StageRecord> stages_;
  std::string jsonl_;
};

}  // namespace gda
