#pragma once
// One job of a sweep, run by `gda job DIR --index I` (a child process of `gda sweep`, or a
// Slurm array task). A job writes into "<its folder>.partial" and renames that to its
// folder when done, so a folder that exists is a whole result and a killed job leaves
// only a .partial, which the next attempt deletes and redoes.
#include <ostream>
#include <string>

#include "pipeline/sweep/plan.h"

namespace gda {

/// The plan stored in a sweep folder (plan.json).
SweepPlan read_sweep_plan(const std::string& dir);

/// The sweep folder `path` is or lies in (a folder holding plan.json and sweep.lock, which
/// every gda sweep writes), or "" when none: `gda run --out` refuses one, as its runs belong to
/// the sweep's plan and `gda report` would average a foreign run as one of them.
std::string sweep_folder_around(const std::string& path);

/// Whether the job's result is there: a run's folder, a source job's model.
bool job_finished(const std::string& dir, const SweepJob& job);

/// Runs job `index` unless it is finished. A run that fails numerically (NaN) is a
/// finished result with status "failed". Any other error (a missing source model, bad
/// data, a mistake in the input met mid-run) is written to failed/<hash>.txt and leaves the
/// job unfinished: returns 2 for a mistake in the input, 70 for anything else. Returns 0
/// when the job is finished (now or before). `device` ("" = the config's) overrides where it
/// runs; it is not part of the job's identity (its hash).
int run_sweep_job(const std::string& dir, int index, std::ostream* console, const std::string& device = "");

}  // namespace gda
