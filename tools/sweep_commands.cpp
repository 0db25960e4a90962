#include "tools/sweep_commands.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>

#include "core/device.h"
#include "core/error.h"
#include "core/files.h"
#include "core/process.h"
#include "pipeline/config.h"
#include "pipeline/sweep/job.h"
#include "pipeline/sweep/job_graph.h"
#include "pipeline/sweep/local_runner.h"
#include "pipeline/sweep/report.h"
#include "pipeline/sweep/slurm.h"

namespace gda {
namespace {

namespace fs = std::filesystem;

/// 0 when every run ended ok; 2 when any run did not (a mistake in the input, a run that
/// could not start): a resume retries those; else 3 when runs failed numerically.
int sweep_exit_code(const SweepReport& r) {
  if (r.errors > 0 || r.not_run > 0) return 2;
  return r.failed > 0 ? 3 : 0;
}

std::string this_binary() { return fs::read_symlink("/proc/self/exe").string(); }

/// A live progress line only for a person watching: a terminal, and not under CI.
bool interactive() { return ::isatty(STDERR_FILENO) && !std::getenv("CI"); }

/// --gpus: "all" or "0,1,…", checked against the GPUs this machine has.
std::vector<int> chosen_gpus(const std::string& text) {
  if (text.empty()) return {};
  if (!cuda_available())
    throw UserError("--gpus " + text + ": " + device_problem("cuda") + ", or leave out --gpus");
  const int count = int(cuda_device_count());
  std::vector<int> gpus;
  if (text == "all") {
    for (int i = 0; i < count; ++i) gpus.push_back(i);
    return gpus;
  }
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    const bool number = !item.empty() && item.size() < 4 && item.find_first_not_of("0123456789") == std::string::npos;
    if (!number || std::stoi(item) >= count)
      throw UserError(fmt::format("--gpus {}: \"{}\" is not a GPU of this machine, which has {} (0 to {}); give "
                                  "\"all\" or indices such as 0,1", text, item, count, count - 1));
    gpus.push_back(std::stoi(item));
  }
  return gpus;
}

/// Jobs at once: --jobs, else GPUs × --jobs-per-gpu, else cores / --threads-per-job.
int jobs_at_once(const SweepArgs& a, const std::vector<int>& gpus, int cores) {
  if (a.threads_per_job < 1) throw UserError("--threads-per-job must be at least 1");
  if (a.jobs_per_gpu < 1) throw UserError("--jobs-per-gpu must be at least 1");
  if (a.jobs > 0) return a.jobs;
  if (!gpus.empty()) return int(gpus.size()) * a.jobs_per_gpu;
  return std::max(1, cores / a.threads_per_job);
}

/// Slurm's options: a GPU per task when the jobs run on CUDA (--device, --gpus or the configs' device).
SlurmOptions slurm_options(const SweepArgs& a, const SweepPlan& plan) {
  const std::string device = a.device.empty() && !plan.jobs.empty()
                                 ? job_config(plan, plan.jobs.front()).section("").text("device")
                                 : a.device;
  const bool gpu = device.rfind("cuda", 0) == 0 || !a.gpus.empty();
  return {this_binary(), a.sbatch, a.max_parallel, a.device, gpu};
}

/// gda run's rule for --out: a folder that is not empty and holds no sweep of gda's (a
/// plan.json that reads as one) is the user's, and a sweep would overwrite its files.
void refuse_foreign_folder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec) || fs::is_empty(dir, ec)) return;
  std::string why;
  try {
    read_sweep_plan(dir);
    return;
  } catch (const UserError& e) {
    why = fs::exists(dir + "/plan.json") ? "its plan.json is not one gda wrote" : "it holds no plan.json";
  }
  throw UserError(fmt::format("the sweep folder {} is not empty and is not a sweep folder ({}; it has {}); give a new "
                              "or empty folder as --out, or the folder of an earlier sweep to resume it", dir, why,
                              fs::directory_iterator(dir)->path().filename().string()));
}

int sweep_command(const SweepArgs& a) {
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  if (const std::string problem = a.launcher == "local" && !a.device.empty() ? device_problem(a.device) : "";
      !problem.empty())
    throw UserError("--device " + a.device + ": " + problem);
  const std::vector<int> gpus = a.launcher == "local" ? chosen_gpus(a.gpus) : std::vector<int>();
  const int jobs = jobs_at_once(a, gpus, cores);
  if (a.launcher == "local" && jobs * a.threads_per_job > cores && !a.oversubscribe)
    throw UserError(fmt::format("--jobs {} x --threads-per-job {} = {} threads exceeds the {} cores: lower them, or "
                                "pass --oversubscribe", jobs, a.threads_per_job, jobs * a.threads_per_job, cores));
  const SweepPlan plan = plan_sweep(a.sweep_file, a.threads_per_job);
  const std::string dir = fs::absolute(a.out_dir.empty() ? "sweeps/" + fs::path(a.sweep_file).stem().string()
                                                          : a.out_dir).lexically_normal().string();
  if (a.dry_run) {
    std::cout << describe_job_graph(plan);
    if (a.launcher == "slurm")
      for (const auto& s : slurm_scripts(dir, plan, slurm_options(a, plan)))
        std::cout << "\n# " << dir << "/slurm/" << s.name << ".sbatch\n" << s.text;
    return 0;
  }
  checked_job_order(plan);
  refuse_foreign_folder(dir);
  fs::create_directories(dir);
  // One sweep writes a folder at a time. The jobs it starts inherit the lock, so a folder
  // stays locked until they have ended too.
  const FileLock lock(dir + "/sweep.lock", 3, "the sweep folder " + dir,
                      "wait for that sweep to end (or stop it), or give this one another --out");
  atomic_write(dir + "/plan.json", plan.to_json());
  std::cout << fmt::format("gda sweep: {} → {}\n{} source models, {} runs; ", a.sweep_file, dir,
                           plan.count(SweepJob::Kind::source), plan.count(SweepJob::Kind::run));
  if (a.launcher == "slurm") {
    std::cout << "submitting to Slurm\n";
    for (const auto& line : submit_to_slurm(dir, slurm_scripts(dir, plan, slurm_options(a, plan))))
      std::cout << line << "\n";
    std::cout << "the report job writes " << dir << "/report.md when the runs end; gda report " << dir
              << " re-makes it at any time\n";
    return 0;
  }
  std::cout << fmt::format("{} jobs at once, {} threads each{}\n", jobs, a.threads_per_job,
                           gpus.empty() ? "" : fmt::format(", over {} GPU(s)", gpus.size()))
            << std::flush;
  const LocalRunOutcome o =
      run_sweep_locally(dir, plan, {jobs, interactive() && !a.no_progress, this_binary(), a.device, gpus});
  std::cout << fmt::format("{} jobs finished now, {} were already finished, {} ended with an error; {:.1f} s\n",
                           o.finished, o.finished_before, o.errors, o.seconds);
  const SweepReport report = collect_report(dir);
  std::cout << write_report(dir, report);
  std::cout << "report: " << dir << "/report.md\n";
  return sweep_exit_code(report);
}

}  // namespace

void add_sweep_commands(CLI::App& app, SweepArgs& a) {
  a.sweep = app.add_subcommand("sweep", "run a grid of configs (optimizers x shift schedules x seeds) as a resumable "
                                        "job graph, then write the report");
  a.sweep->add_option("sweep", a.sweep_file, "sweep TOML file (docs/SWEEPS.md)")->required();
  a.sweep->add_option("--jobs", a.jobs, "jobs at once (default: cores / threads-per-job)");
  a.sweep->add_option("--threads-per-job", a.threads_per_job, "threads of each job (default 1)");
  a.sweep->add_option("--out", a.out_dir, "sweep folder (default: sweeps/<sweep file name>)");
  a.sweep->add_flag("--dry-run", a.dry_run, "print the job graph (and the Slurm scripts) without running");
  a.sweep->add_option("--launcher", a.launcher, "local (this machine) or slurm (sbatch job arrays)")
      ->check(CLI::IsMember({"local", "slurm"}));
  a.sweep->add_option("--sbatch", a.sbatch, "extra sbatch option for every script, e.g. --sbatch=--partition=cpu");
  a.sweep->add_option("--max-parallel", a.max_parallel, "slurm: at most N array tasks at once");
  a.sweep->add_flag("--oversubscribe", a.oversubscribe, "allow jobs x threads-per-job above the cores");
  a.sweep->add_flag("--no-progress", a.no_progress, "no live progress line");
  a.sweep->add_option("--device", a.device, "every job's device: auto | cpu | cuda | cuda:N (default: the configs')");
  a.sweep->add_option("--gpus", a.gpus, "spread the jobs over GPUs: all, or indices such as 0,1 (one GPU per job)");
  a.sweep->add_option("--jobs-per-gpu", a.jobs_per_gpu, "with --gpus: jobs at once on each GPU (default 1)");

  a.job = app.add_subcommand("job", "run one job of a sweep folder (what gda sweep and Slurm array tasks call)");
  a.job->add_option("dir", a.out_dir, "sweep folder")->required();
  a.job->add_option("--index", a.index, "job index in plan.json")->required();
  a.job->add_option("--device", a.device, "auto | cpu | cuda | cuda:N (overrides the configs' device)");

  a.report = app.add_subcommand("report", "write the report of a sweep folder (Markdown, CSV, JSON, PNG plots)");
  a.report->add_option("dir", a.out_dir, "sweep folder")->required();
}

bool sweep_command_given(const SweepArgs& a) { return a.sweep->parsed() || a.job->parsed() || a.report->parsed(); }

int run_sweep_command(const SweepArgs& a) {
  if (a.sweep->parsed()) return sweep_command(a);
  if (a.job->parsed()) {
    end_with_parent();  // started by gda sweep: end with it
    return run_sweep_job(a.out_dir, a.index, &std::cout, a.device);
  }
  std::cout << write_report(a.out_dir, collect_report(a.out_dir));
  return 0;
}

}  // namespace gda
