#pragma once
// `gda sweep`, `gda job` and `gda report` (docs/SWEEPS.md).
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace gda {

struct SweepArgs {
  std::string sweep_file, out_dir, launcher = "local", device, gpus;
  int jobs = 0, threads_per_job = 1, index = -1, max_parallel = 0, jobs_per_gpu = 1;
  bool dry_run = false, oversubscribe = false, no_progress = false;
  std::vector<std::string> sbatch;
  CLI::App *sweep = nullptr, *job = nullptr, *report = nullptr;
};

/// Adds the three subcommands to the command line.
void add_sweep_commands(CLI::App& app, SweepArgs& args);

/// Whether one of them was given.
bool sweep_command_given(const SweepArgs& args);

/// Runs whichever of the three was given; returns the exit code. Throws UserError.
int run_sweep_command(const SweepArgs& args);

}  // namespace gda
