#include "pipeline/sweep/local_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/wait.h>
#include <tbb/flow_graph.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
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

#include "pipeline/sweep/job.h"
#include "pipeline/sweep/job_graph.h"

extern char** environ;

namespace gda {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

/// Runs `gda job DIR --index I` with its output in `log`; returns its exit status
/// (128 + signal when killed).
int run_child(const std::string& binary, const std::string& dir, int index, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const std::string idx = std::to_string(index);
  std::vector<char*> argv = {const_cast<char*>(binary.c_str()), const_cast<char*>("job"),
                             const_cast<char*>(dir.c_str()), const_cast<char*>("--index"),
                             const_cast<char*>(idx.c_str()), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return 127;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 1;
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
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  if (p.done > 0) {
    const double per_job = p.job_seconds / p.done;
    line += " | ETA " + duration(per_job * (p.todo - p.done) / std::max(1, jobs));
  } else {
    line += " | " + duration(elapsed);
  }
  return line;
}

}  // namespace

LocalRunOutcome run_sweep_locally(const std::string& dir, const SweepPlan& plan, const LocalRunOptions& options) {
  checked_job_order(plan);
  const auto t0 = Clock::now();
  LocalRunOutcome outcome;
  fs::create_directories(dir + "/logs");
  Progress progress;
  std::vector<bool> pending(plan.jobs.size());
  for (const auto& j : plan.jobs) {
    pending[j.index] = !job_finished(dir, j);
    if (pending[j.index]) ++progress.todo;
    else ++outcome.finished_before;
  }
  std::atomic<int> finished{0}, errors{0};

  bool stop = false;
  std::mutex stop_mutex;
  std::condition_variable stop_cv;
  std::thread reporter;
  if (options.progress)
    reporter = std::thread([&] {
      std::unique_lock<std::mutex> lock(stop_mutex);
      while (!stop_cv.wait_for(lock, std::chrono::seconds(1), [&] { return stop; })) {
        std::string line = progress_line(progress, dir, plan, options.jobs, t0);
        if (line.size() > 150) line = line.substr(0, 147) + "...";
        std::cerr << "\r\033[K" << line << std::flush;
      }
      std::cerr << "\r\033[K";
    });

  tbb::task_arena arena(options.jobs);
  arena.execute([&] {
    namespace flow = tbb::flow;
    flow::graph g;
    std::vector<std::unique_ptr<flow::continue_node<flow::continue_msg>>> nodes;
    for (const auto& job : plan.jobs) {
      const int index = job.index;
      nodes.push_back(std::make_unique<flow::continue_node<flow::continue_msg>>(g, [&, index](flow::continue_msg) {
        if (!pending[index]) return flow::continue_msg();
        const auto started = Clock::now();
        {
          std::lock_guard<std::mutex> lock(progress.mutex);
          progress.running[index] = started;
        }
        const std::string log = fmt::format("{}/logs/{}.log", dir, index);
        const int rc = run_child(options.gda_binary, dir, index, log);
        if (rc == 0 && job_finished(dir, plan.jobs[index])) ++finished;
        else {
          ++errors;
          std::cerr << fmt::format("{}job {} ({}) ended with status {}: see {}\n", options.progress ? "\r\033[K" : "",
                                     index, plan.jobs[index].label, rc, log);
        }
        std::lock_guard<std::mutex> lock(progress.mutex);
        progress.running.erase(index);
        ++progress.done;
        progress.job_seconds += std::chrono::duration<double>(Clock::now() - started).count();
        return flow::continue_msg();
      }));
    }
    std::vector<int> roots;
    for (const auto& job : plan.jobs) {
      for (int need : job.needs) flow::make_edge(*nodes[need], *nodes[job.index]);
      if (job.needs.empty()) roots.push_back(job.index);
    }
    for (int r : roots) nodes[r]->try_put(flow::continue_msg());
    g.wait_for_all();
  });

  if (reporter.joinable()) {
    {
      std::lock_guard<std::mutex> lock(stop_mutex);
      stop = true;
    }
    stop_cv.notify_all();
    reporter.join();
  }
  outcome.finished = finished;
  outcome.errors = errors;
  outcome.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return outcome;
}

}  // namespace gda
