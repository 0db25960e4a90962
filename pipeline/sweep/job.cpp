#include "pipeline/sweep/job.h"

#include <fmt/format.h>

#include <filesystem>

#include "pipeline/config.h"
#include "core/error.h"
#include "core/files.h"
#include "pipeline/run.h"
#include "pipeline/source_model.h"

namespace gda {

namespace fs = std::filesystem;

SweepPlan read_sweep_plan(const std::string& dir) {
  const std::string path = dir + "/plan.json";
  if (!std::filesystem::exists(path))
    throw UserError(path + " is missing: is " + dir + " a sweep folder made by gda sweep?");
  // A plan holds every job's resolved config: generous, but bounded.
  return SweepPlan::from_json(read_input_file(path, 64 * kMaxInputFileBytes, "sweep plan"), path);
}

std::string sweep_folder_around(const std::string& path) {
  std::error_code ec;
  for (fs::path p = fs::absolute(path, ec).lexically_normal(); !p.empty(); p = p.parent_path()) {
    if (fs::exists(p / "plan.json", ec) && fs::exists(p / "sweep.lock", ec)) return p.string();
    if (p == p.root_path()) break;
  }
  return "";
}

bool job_finished(const std::string& dir, const SweepJob& job) {
  const std::string folder = dir + "/" + job.dir_name();
  // A source folder whose model a clean-up deleted is not a finished source job.
  return job.kind == SweepJob::Kind::source ? has_source_model(folder) : fs::exists(folder);
}

namespace {

/// The run job's source model, checked before the run: missing or unreadable, it is removed
/// so that its source job counts as unfinished and a resume trains it again.
void check_source_model(const std::string& dir, const SweepJob& job, const std::string& source_dir) {
  std::string problem;
  if (!has_source_model(source_dir)) {
    const std::string failure_file = dir + "/failed/" + job.source_hash + ".txt";
    std::string failure = read_text(failure_file);
    failure = failure.substr(0, failure.find('\n'));
    problem = failure.empty() ? "it was never trained or its files were deleted"
                              : fmt::format("its source job did not finish ({}: {})", failure_file,
                                            failure.substr(failure.find(": ") + 2, 400));
  } else if (const std::string why = unreadable_source_model(source_dir); !why.empty()) {
    problem = "it cannot be read (" + why + ")";
  }
  if (problem.empty()) return;
  std::error_code ec;
  fs::remove_all(source_dir, ec);
  throw UserError(fmt::format("the source model {} of this run is missing: {}; run gda sweep again, which trains "
                              "it first", source_dir, problem));
}

/// failed/<hash>.txt for the report; when that cannot be written either (the same full
/// disk), the console keeps both messages.
void record_failure(const std::string& dir, const std::string& failure_file, const std::string& text,
                    std::ostream* console) {
  try {
    fs::create_directories(dir + "/failed");
    atomic_write(failure_file, text);
  } catch (const std::exception& e) {
    if (console) *console << "gda job: could not record the failure below: " << e.what() << "\n";
  }
}

}  // namespace

int run_sweep_job(const std::string& dir, int index, std::ostream* console, const std::string& device) {
  const SweepPlan plan = read_sweep_plan(dir);
  if (index < 0 || index >= int(plan.jobs.size()))
    throw UserError(fmt::format("gda job: --index {} is outside the sweep's {} jobs (0 … {})", index,
                                plan.jobs.size(), plan.jobs.size() - 1));
  const SweepJob& job = plan.jobs[index];
  // One process per job at a time (a Slurm task and a local resume, say); the second waits
  // a little, then leaves it to the first.
  fs::create_directories(dir + "/locks");
  const FileLock lock(dir + "/locks/" + job.hash + ".lock", 10,
                      fmt::format("job {} ({}) of {}", index, job.label, dir), "it is running there; let it finish");
  if (job_finished(dir, job)) {
    if (console) *console << fmt::format("job {} ({}) is already finished\n", index, job.label);
    return 0;
  }
  const std::string final_dir = dir + "/" + job.dir_name();
  const std::string partial = final_dir + ".partial";
  const std::string failure_file = dir + "/failed/" + job.hash + ".txt";
  fs::remove_all(partial);  // what a killed attempt left
  if (job.kind == SweepJob::Kind::source) fs::remove_all(final_dir);  // a folder whose model is gone
  try {
    RunOptions options;
    options.out_dir = partial;
    options.console = console;
    if (job.kind == SweepJob::Kind::source) {
      options.source_dir = partial;
      options.source_only = true;
    } else {
      options.source_dir = dir + "/sources/" + job.source_hash;
      check_source_model(dir, job, options.source_dir);
    }
    std::vector<std::string> placed;
    if (!device.empty()) placed.push_back("device=" + device);
    const RunSummary s = run_experiment(job_config(plan, job, placed), options);
    if (job.kind == SweepJob::Kind::source && s.status != RunStatus::ok)
      throw UserError("source training failed: " + s.error);
    // A mistake in the input found mid-run is not a result: the job stays unfinished, its
    // error goes to failed/ (the report shows it) and a resume runs it again.
    if (s.status == RunStatus::error) throw UserError(s.error);
    fs::rename(partial, final_dir);
    fs::remove(failure_file);
    return 0;
  } catch (const std::exception& e) {
    // Recorded for the report and retried on resume; the exit code says which kind it was.
    const bool user_error = dynamic_cast<const UserError*>(&e) != nullptr ||
                            dynamic_cast<const fs::filesystem_error*>(&e) != nullptr;
    record_failure(dir, failure_file, fmt::format("job {} ({}): {}\n", index, job.label, e.what()), console);
    if (console) *console << "gda job: " << (user_error ? "error: " : "internal error (please report): ") << e.what() << "\n";
    return user_error ? 2 : 70;
  }
}

}  // namespace gda
