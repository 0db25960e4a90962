#pragma once
// Runs a sweep's unfinished jobs on this machine: a TBB flow graph with one node per job
// and an edge per need, in an arena of `jobs` threads, each node running its job as a
// child process (`gda job DIR --index I`, output in DIR/logs/). A child per job keeps
// each job's thread count its own, and a crash of one job from killing the others.
#include <string>
#include <vector>

#include "pipeline/sweep/plan.h"

namespace gda {

struct LocalRunOptions {
  int jobs = 1;              ///< jobs at once
  bool progress = false;     ///< a live progress line on stderr
  std::string gda_binary;    ///< the gda executable the children run
  std::string device;        ///< every job's device ("" = each config's own)
  /// GPUs to spread the jobs over: each job sees one (CUDA_VISIBLE_DEVICES) and runs on
  /// it, the one running the fewest jobs when it starts. Empty: no GPU assignment.
  std::vector<int> gpus;
};

struct LocalRunOutcome {
  int finished_before = 0;  ///< skipped: their results were already there
  int finished = 0;         ///< ran now and finished
  int errors = 0;           ///< ran now and left an error in failed/
  double seconds = 0;
};

LocalRunOutcome run_sweep_locally(const std::string& dir, const SweepPlan& plan, const LocalRunOptions& options);

}  // namespace gda
