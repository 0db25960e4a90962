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
  const std::string text = read_text(path);
  if (text.empty()) throw UserError(path + " is missing: is " + dir + " a sweep folder made by gda sweep?");
  return SweepPlan::from_json(text, path);
}

bool job_finished(const std::string& dir, const SweepJob& job) { return fs::exists(dir + "/" + job.dir_name()); }

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
  try {
    RunOptions options;
    options.out_dir = partial;
    options.console = console;
    if (job.kind == SweepJob::Kind::source) {
      options.source_dir = partial;
      options.source_only = true;
    } else {
      options.source_dir = dir + "/sources/" + job.source_hash;
      if (!has_source_model(options.source_dir))
        throw UserError(fmt::format("the source model {} of this run is missing: its source job did not finish "
                                    "(see {}/failed/{}.txt)", options.source_dir, dir, job.source_hash));
    }
    std::vector<std::string> placed;
    if (!device.empty()) placed.push_back("device=" + device);
    const RunSummary s = run_experiment(job_config(plan, job, placed), options);
    if (job.kind == SweepJob::Kind::source && s.status != "ok")
      throw UserError("source training failed: " + s.error);
    // A mistake in the input found mid-run is not a result: the job stays unfinished, its
    // error goes to failed/ (the report shows it) and a resume runs it again.
    if (s.status == "error") throw UserError(s.error);
    fs::rename(partial, final_dir);
    fs::remove(failure_file);
    return 0;
  } catch (const std::exception& e) {
    // Recorded for the report and retried on resume; the exit code says which kind it was.
    const bool user_error = dynamic_cast<const UserError*>(&e) != nullptr ||
                            dynamic_cast<const fs::filesystem_error*>(&e) != nullptr;
    fs::create_directories(dir + "/failed");
    atomic_write(failure_file, fmt::format("job {} ({}): {}\n", index, job.label, e.what()));
    if (console) *console << "gda job: " << (user_error ? "error: " : "internal error (please report): ") << e.what() << "\n";
    return user_error ? 2 : 70;
  }
}

}  // namespace gda
