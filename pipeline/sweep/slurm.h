#pragma once
// A sweep on a Slurm cluster: three sbatch scripts in DIR/slurm/ — a job array over the
// source jobs, a job array over the runs that starts after it (afterany: a run whose
// source failed records that error), and `gda report` after both. Each array task runs
// `gda job DIR --index OFFSET+SLURM_ARRAY_TASK_ID`, so finished jobs are skipped there too.
#include <string>
#include <vector>

#include "pipeline/sweep/plan.h"

namespace gda {

struct SlurmOptions {
  std::string gda_binary;            ///< absolute path, reachable from the compute nodes
  std::vector<std::string> sbatch;   ///< extra #SBATCH lines' options, e.g. "--partition=gpu"
  int max_parallel = 0;              ///< array throttle (%N); 0 = none
  std::string device;                ///< every job's device ("" = the configs'); "cuda…" asks for a GPU
  bool gpu = false;                  ///< each source and run task asks for one GPU (--gres=gpu:1)
};

struct SlurmScript {
  std::string name;  ///< sources, runs, report
  std::string text;
};

/// The scripts for the sweep in `dir` (an absolute path on the shared file system).
std::vector<SlurmScript> slurm_scripts(const std::string& dir, const SweepPlan& plan, const SlurmOptions& options);

/// Writes the scripts into dir/slurm and submits them in order with sbatch, each depending
/// on the one before. Returns a line per submitted script ("sources: job 123"). Throws
/// UserError when sbatch is missing or refuses a script.
std::vector<std::string> submit_to_slurm(const std::string& dir, const std::vector<SlurmScript>& scripts);

}  // namespace gda
