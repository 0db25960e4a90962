#pragma once
// One run of gradual domain adaptation: config → data → domains → source model →
// self-training stages → per-stage evaluation → results in the run directory.
#include <ostream>
#include <string>

#include "pipeline/config.h"
#include "pipeline/run_record.h"

namespace gda {

struct RunOptions {
  std::string out_dir;              ///< the run directory; "" = output.dir/output.name
  std::ostream* console = nullptr;  ///< where the per-stage table is printed
  /// A folder for the trained source model (pipeline/source_model.h): loaded from there
  /// when it holds one, else trained and saved there. "" = train, keep nothing.
  std::string source_dir;
  /// Stop after source training (a sweep's source job): no adaptation, no evaluation.
  bool source_only = false;
};

/// The run directory the config asks for: output.dir / (output.name or
/// "<config stem>-seed<seed>").
std::string default_run_dir(const Config& c);

/// Runs the experiment. User mistakes visible before training (a missing data file, sizes
/// larger than the dataset) throw UserError before any stage is trained. Once stages run,
/// every stage finished is kept and the summary says how the run ended: "ok"; "error" for a
/// mistake in the input that shows only mid-run (exit 2 in the CLI; a sweep retries it);
/// "failed" for a numerical failure such as a NaN loss (exit 3; a finished sweep result).
RunSummary run_experiment(const Config& config, const RunOptions& options);

}  // namespace gda
