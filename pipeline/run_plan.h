#pragma once
// What one run is, decided before anything trains (pipeline/run.cpp runs it): the device,
// the thread budgets, the generator's domain jobs, the initial model and the settings of
// training, evaluation and analysis. Made once by plan_run and read-only from then on:
// every node of the run's graph takes it by const reference.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/config_schema.h"
#include "pipeline/run.h"
#include "pipeline/run_record.h"
#include "stages/analysis/analysis.h"
#include "stages/models/model.h"
#include "stages/shift/generator.h"
#include "stages/train/self_training.h"

namespace gda {

/// What is measured after every stage ([evaluation]).
struct EvaluationSettings {
  bool all_domains = true;  ///< every domain of the path; false: the target alone
  std::int64_t batch_size = 1000;
};

struct RunPlan {
  std::uint64_t seed = 0;
  c10::Device device{c10::kCPU};  ///< where the model and the domains live
  /// The summary's first fields (seed, config hash, device, thread budgets, the target's
  /// name): the run's summary starts as a copy of it.
  RunSummary header;
  std::string dir;         ///< the run directory
  std::string source_dir;  ///< RunOptions::source_dir
  bool source_only = false;

  std::unique_ptr<const ShiftGenerator> generator;
  std::vector<DomainJob> jobs;  ///< in path order: the source first, the target last
  /// The initial model. The one thing in the plan that changes: the adapt node, its only
  /// user, trains it in place.
  ModelPtr model;
  StageSettings source, stages;  ///< source training and self-training
  Schedule schedule = Schedule::gradual;  ///< what adaptation trains on (adaptation.schedule)
  int rounds = 1;                         ///< stages of the direct and pooled baselines
  EvaluationSettings evaluation;
  AnalysisSettings analysis;
};

/// The plan of the run `config` describes, in the order a run starts: the resolved config
/// written (it marks the folder as gda's), determinism and the device set, the header
/// logged, then threads and seeds, the data cut into source, pool and target, the domain
/// jobs and the initial model (whose weights draw from the seeded torch stream).
/// User mistakes visible now throw UserError.
RunPlan plan_run(const Config& config, const RunOptions& options, RunRecorder& recorder);

/// At least two slots: the adapt node holds one for the whole adaptation, and evaluation
/// and recording need another, or with threads = 1 no stage would reach the disk (or the
/// console, or a sweep's progress line) before the last one had trained.
int arena_slots(int threads);

}  // namespace gda
