#include "pipeline/sweep/local_runner.h"

#include <fmt/format.h>
#include <tbb/flow_graph.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "core/process.h"
#include "core/stopwatch.h"
#include "pipeline/sweep/job.h"
#include "pipeline/sweep/job_graph.h"

namespace gda {
namespace {

namespace fs = std::filesystem;

/// The GPUs of a sweep and how many jobs each runs now: a job takes the least busy one.
class GpuSlots {
 public:
  explicit GpuSlots(const std::vector<int>& gpus) : gpus_(gpus), running_(gpus.size(), 0) {}

  /// The index into gpus of the GPU this job takes; -1 when there are none.
  int take() {
    if (gpus_.empty()) return -1;
    std::lock_guard<std::mutex> lock(mutex_);
    const auto least = std::min_element(running_.begin(), running_.end()) - running_.begin();
    ++running_[std::size_t(least)];
    return int(least);
  }
  void give_back(int slot) {
    if (slot < 0) return;
    std::lock_guard<std::mutex> lock(mutex_);
    --running_[std::size_t(slot)];
  }
  int gpu(int slot) const { return gpus_[std::size_t(slot)]; }

 private:
  std::vector<int> gpus_;
  std::vector<int> running_;
  std::mutex mutex_;
};

/// Runs `gda job DIR --index I` with its output in `log`, on one GPU when `gpu` ≥ 0;
/// returns its exit status (128 + signal when killed).
int run_child(const LocalRunOptions& o, const std::string& dir, int index, const std::string& log, int gpu) {
  std::vector<std::string> argv = {o.gda_binary, "job", dir, "--index", std::to_string(index)};
  std::vector<std::string> env = {fmt::format("{}={}", kParentPidVariable, ::getpid())};
  if (gpu >= 0) {
    env.push_back("CUDA_VISIBLE_DEVICES=" + std::to_string(gpu));
    argv.insert(argv.end(), {"--device", "cuda"});  // the one GPU it sees
  } else if (!o.device.empty()) {
    argv.insert(argv.end(), {"--device", o.device});
  }
  return run_process(argv, "", log, env);
}

std::string duration(double s) {
  if (s < 60) return fmt::format("{:.0f}s", s);
  if (s < 3600) return fmt::format("{:.0f}m{:02.0f}s", std::floor(s / 60), std::fmod(s, 60));
  return fmt::format("{:.0f}h{:02.0f}m", std::floor(s / 3600), std::fmod(s / 60, 60));
}

/// The shared state the progress line reads.
struct Progress {
  std::mutex mutex;
  std::map<int, Clock::time_point> running;
  int done = 0, todo = 0;
  double job_seconds = 0;  ///< summed over finished jobs
};

std::int64_t stages_done(const std::string& partial_dir) {
  std::ifstream in(partial_dir + "/stages.jsonl");
  std::int64_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

std::string progress_line(Progress& p, const std::string& dir, const SweepPlan& plan, int jobs,
                          Clock::time_point t0) {
  std::lock_guard<std::mutex> lock(p.mutex);
  std::string line = fmt::format("[{}/{} jobs]", p.done, p.todo);
  for (const auto& [index, since] : p.running) {
    const SweepJob& j = plan.jobs[index];
    line += fmt::format(" | {}", j.label);
    if (j.kind == SweepJob::Kind::run)
      line += fmt::format(" stage {}", stages_done(dir + "/" + j.dir_name() + ".partial"));
  }
  const double elapsed = seconds_since(t0);
  if (p.done > 0) {
    const double per_job = p.job_seconds / p.done;
    line += " | ETA " + duration(per_job * (p.todo - p.done) / std::max(1, jobs));
  } else {
    line += " | " + duration(elapsed);
  }
  return line;
}

/// Prints the progress line to stderr every second while it lives (when enabled).
class ProgressReporter {
 public:
  ProgressReporter(bool enabled, Progress& p, const std::string& dir, const SweepPlan& plan, int jobs,
                   Clock::time_point t0) {
    if (!enabled) return;
    thread_ = std::thread([&p, &dir, &plan, jobs, t0, this] {
      std::unique_lock<std::mutex> lock(mutex_);
      while (!cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_; })) {
        std::string line = progress_line(p, dir, plan, jobs, t0);
        if (line.size() > 150) line = line.substr(0, 147) + "...";
        std::cerr << "\r\033[K" << line << std::flush;
      }
      std::cerr << "\r\033[K";
    });
  }
  ~ProgressReporter() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  ProgressReporter(const ProgressReporter&) = delete;
  ProgressReporter& operator=(const ProgressReporter&) = delete;

 private:
  bool stop_ = false;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::thread thread_;
};

/// What the job nodes share.
struct SweepRun {
  const std::string& dir;
  const SweepPlan& plan;
  const LocalRunOptions& options;
  std::vector<bool> pending;  ///< by job index: not finished before this sweep started
  Progress progress;
  GpuSlots gpus;
  std::atomic<int> finished{0}, errors{0};
};

/// One job node: runs the job as a child process unless it was finished before.
void run_pending_job(SweepRun& run, int index) {
  if (!run.pending[index]) return;
  const auto started = Clock::now();
  {
    std::lock_guard<std::mutex> lock(run.progress.mutex);
    run.progress.running[index] = started;
  }
  const std::string log = fmt::format("{}/logs/{}.log", run.dir, index);
  const int slot = run.gpus.take();
  const int rc = run_child(run.options, run.dir, index, log, slot < 0 ? -1 : run.gpus.gpu(slot));
  run.gpus.give_back(slot);
  if (rc == 0 && job_finished(run.dir, run.plan.jobs[index])) {
    ++run.finished;
  } else {
    ++run.errors;
    std::cerr << fmt::format("{}job {} ({}) ended with status {}: see {}\n", run.options.progress ? "\r\033[K" : "",
                             index, run.plan.jobs[index].label, rc, log);
  }
  std::lock_guard<std::mutex> lock(run.progress.mutex);
  run.progress.running.erase(index);
  ++run.progress.done;
  run.progress.job_seconds += seconds_since(started);
}

/// The DAG as a TBB flow graph (a continue_node per job, an edge per need), run to its end
/// with at most options.jobs jobs at once.
void run_job_graph(SweepRun& run) {
  tbb::task_arena arena(run.options.jobs);
  arena.execute([&] {
    namespace flow = tbb::flow;
    flow::graph g;
    std::vector<std::unique_ptr<flow::continue_node<flow::continue_msg>>> nodes;
    for (const auto& job : run.plan.jobs) {
      const int index = job.index;
      nodes.push_back(std::make_unique<flow::continue_node<flow::continue_msg>>(g, [&run, index](flow::continue_msg) {
        run_pending_job(run, index);
        return flow::continue_msg();
      }));
    }
    std::vector<int> roots;
    for (const auto& job : run.plan.jobs) {
      for (int need : job.needs) flow::make_edge(*nodes[need], *nodes[job.index]);
      if (job.needs.empty()) roots.push_back(job.index);
    }
    for (int r : roots) nodes[r]->try_put(flow::continue_msg());
    g.wait_for_all();
  });
}

}  // namespace

LocalRunOutcome run_sweep_locally(const std::string& dir, const SweepPlan& plan, const LocalRunOptions& options) {
  checked_job_order(plan);
  const auto t0 = Clock::now();
  LocalRunOutcome outcome;
  fs::create_directories(dir + "/logs");
  SweepRun run{dir, plan, options, std::vector<bool>(plan.jobs.size()), {}, GpuSlots(options.gpus)};
  for (const auto& j : plan.jobs) {
    run.pending[j.index] = !job_finished(dir, j);
    if (run.pending[j.index]) ++run.progress.todo;
    else ++outcome.finished_before;
  }
  {
    ProgressReporter reporter(options.progress, run.progress, dir, plan, options.jobs, t0);
    run_job_graph(run);
  }
  outcome.finished = run.finished;
  outcome.errors = run.errors;
  outcome.seconds = seconds_since(t0);
  return outcome;
}

}  // namespace gda
