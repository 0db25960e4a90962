// Tiny sweeps through the real CLI (gda sweep / job / report as child processes): shared
// source models, results that do not depend on the number of jobs or on sharing, and a
// resume after the sweep is killed with SIGKILL mid-way.
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <fstream>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "pipeline/config.h"
#include "core/files.h"
#include "pipeline/sweep/plan.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

namespace fs = std::filesystem;

const char* kGrid = "[grid]\n\"optimizer.name\" = [\"adam\", \"sam\"]\nseed = [0, 1]\n";

std::string sweep_folder(const std::string& name) {
  auto dir = temp_dir(name);
  atomic_write(dir + "/base.toml", tiny_config(2));
  atomic_write(dir + "/sweep.toml", std::string("base = \"base.toml\"\n") + kGrid);
  return dir;
}

int gda(const std::string& args, const std::string& log) {
  const std::string cmd = fmt::format("{} {} > {} 2>&1", GDA_BINARY, args, log);
  return WEXITSTATUS(std::system(cmd.c_str()));
}

/// run hash → (final target accuracy, per-stage target accuracies), from the result files.
std::map<std::string, std::string> results(const std::string& sweep_dir) {
  std::map<std::string, std::string> r;
  for (const auto& e : fs::directory_iterator(sweep_dir + "/runs")) {
    if (e.path().extension() == ".partial") continue;
    const auto s = nlohmann::json::parse(read_text(e.path().string() + "/summary.json"));
    std::string v = s["final_target_accuracy"].dump();
    std::ifstream in(e.path().string() + "/stages.jsonl");
    for (std::string line; std::getline(in, line);) v += " " + nlohmann::json::parse(line)["accuracy"].dump();
    r[e.path().filename().string()] = v;
  }
  return r;
}

/// Starts `gda ARGS…` in a process group of its own, stdout and stderr into `log`.
pid_t start_gda(const std::vector<std::string>& args, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    freopen(log.c_str(), "w", stdout);
    dup2(fileno(stdout), fileno(stderr));
    std::vector<char*> argv = {const_cast<char*>(GDA_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(GDA_BINARY, argv.data());
    _exit(127);
  }
  if (pid > 0) setpgid(pid, pid);
  return pid;
}

/// Processes whose command line mentions `text` (a sweep folder: its gda job children).
int processes_mentioning(const std::string& text) {
  int n = 0;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos || name == std::to_string(getpid())) continue;
    std::string cmdline = read_text(e.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    n += cmdline.find(text) != std::string::npos;
  }
  return n;
}

int finished_runs(const std::string& sweep_dir) {
  int n = 0;
  if (!fs::exists(sweep_dir + "/runs")) return 0;
  for (const auto& e : fs::directory_iterator(sweep_dir + "/runs")) n += e.path().extension() != ".partial";
  return n;
}

TEST(SweepEndToEnd, SharesSourceModelsAndGivesTheSameNumbersWithAnyJobCount) {
  auto dir = sweep_folder("sweep-e2e");
  ASSERT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {0}/two --jobs 2 --threads-per-job 1", dir), dir + "/two.txt"), 0)
      << read_text(dir + "/two.txt");
  // 2 optimizers × 2 seeds: exactly 2 source models trained, 4 runs that reused them.
  int sources = 0;
  for (const auto& e : fs::directory_iterator(dir + "/two/sources")) sources += e.is_directory();
  EXPECT_EQ(sources, 2);
  const auto two = results(dir + "/two");
  ASSERT_EQ(two.size(), 4u);
  for (const auto& e : fs::directory_iterator(dir + "/two/runs")) {
    const auto s = nlohmann::json::parse(read_text(e.path().string() + "/summary.json"));
    EXPECT_EQ(s["source_model"], "reused");
    EXPECT_EQ(s["status"], "ok");
  }
  const std::string report = read_text(dir + "/two/report.md");
  EXPECT_NE(report.find("4 runs: 4 ok"), std::string::npos) << report;
  EXPECT_NE(report.find("2 source models trained"), std::string::npos) << report;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_NE(report.find(fmt::format("Runs made on: {} (4 runs).", host)), std::string::npos) << report;
  EXPECT_NE(report.find("Runs made by: gda "), std::string::npos) << report;

  // One job at a time: the same numbers, run for run.
  ASSERT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {0}/one --jobs 1 --threads-per-job 1", dir), dir + "/one.txt"), 0);
  EXPECT_EQ(results(dir + "/one"), two);

  // And the same as `gda run` training its own source model (same threads).
  ASSERT_EQ(gda(fmt::format("run {0}/base.toml --threads 1 --set optimizer.name=sam --seed 1 --out {0}/alone", dir),
                dir + "/alone.txt"), 0);
  const auto alone = nlohmann::json::parse(read_text(dir + "/alone/summary.json"));
  EXPECT_EQ(alone["source_model"], "trained");
  const std::string sam_seed1 =
      run_hash(load_config(dir + "/base.toml", {"optimizer.name=sam", "seed=1", "threads=1"}));
  ASSERT_TRUE(two.count(sam_seed1));
  std::string stages;
  std::ifstream in(dir + "/alone/stages.jsonl");
  for (std::string line; std::getline(in, line);) stages += " " + nlohmann::json::parse(line)["accuracy"].dump();
  EXPECT_EQ(two.at(sam_seed1), alone["final_target_accuracy"].dump() + stages);

  // Re-running a finished sweep runs nothing and makes the same report.
  ASSERT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {0}/one --jobs 1 --threads-per-job 1", dir), dir + "/again.txt"), 0);
  EXPECT_NE(read_text(dir + "/again.txt").find("0 jobs finished now, 6 were already finished"), std::string::npos)
      << read_text(dir + "/again.txt");
}

TEST(SweepEndToEnd, ResumesAfterSigkillWithTheSameResults) {
  auto dir = sweep_folder("sweep-kill");
  ASSERT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {0}/whole --jobs 1", dir), dir + "/whole.txt"), 0);
  const auto whole = results(dir + "/whole");

  // The same sweep in its own process group, killed hard once the first run has finished.
  const std::string out = dir + "/killed";
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    setpgid(0, 0);
    const std::string log = dir + "/killed.txt";
    freopen(log.c_str(), "w", stdout);
    execl(GDA_BINARY, GDA_BINARY, "sweep", (dir + "/sweep.toml").c_str(), "--out", out.c_str(), "--jobs", "1",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  setpgid(pid, pid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (finished_runs(out) < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(kill(-pid, SIGKILL), 0);  // the sweep and the job it is running
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status));
  const int done_before = finished_runs(out);
  ASSERT_GE(done_before, 1);
  ASSERT_LT(done_before, 4) << "the sweep finished before the kill; the test proves nothing";

  // Resume: the finished runs are skipped, the rest redone, the results the same.
  ASSERT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {1} --jobs 1", dir, out), dir + "/resumed.txt"), 0)
      << read_text(dir + "/resumed.txt");
  EXPECT_NE(read_text(dir + "/resumed.txt").find(fmt::format("were already finished")), std::string::npos);
  EXPECT_EQ(results(out), whole);
  for (const auto& e : fs::recursive_directory_iterator(out))
    EXPECT_NE(e.path().extension(), ".partial") << e.path();
  // The report is re-made from the files at any time.
  fs::remove(out + "/report.md");
  ASSERT_EQ(gda("report " + out, dir + "/report.txt"), 0);
  EXPECT_NE(read_text(out + "/report.md").find("4 runs: 4 ok"), std::string::npos);
}

// Killed at random moments, six times: the group with SIGKILL (a crash, a node lost) and the
// sweep process alone with SIGTERM (a scheduler's stop), which must take its jobs with it.
// Resumed, the results are those of a sweep never killed; no temporary file or job is left.
TEST(SweepEndToEnd, SixKillsAtRandomMomentsThenAResumeGiveTheSameResults) {
  auto dir = sweep_folder("sweep-kills");
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {0}/whole --jobs 1", dir), dir + "/whole.txt"), 0);
  const double whole_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto whole = results(dir + "/whole");
  const std::string out = dir + "/killed";
  std::mt19937 random(20261202);
  int kills = 0;
  for (int attempt = 0; kills < 6 && attempt < 20; ++attempt) {
    const pid_t pid = start_gda({"sweep", dir + "/sweep.toml", "--out", out, "--jobs", "1"},
                                fmt::format("{}/attempt{}.txt", dir, attempt));
    ASSERT_GT(pid, 0);
    // A sixth of a whole sweep at most: each attempt finishes about a job before its kill.
    std::this_thread::sleep_for(std::chrono::duration<double>(
        std::uniform_real_distribution<double>(0.02, 0.17)(random) * whole_seconds));
    const bool group = kills % 2 == 0;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == 0) {
      ASSERT_EQ(group ? kill(-pid, SIGKILL) : kill(pid, SIGTERM), 0);
      waitpid(pid, &status, 0);
      ++kills;
      ASSERT_TRUE(WIFSIGNALED(status)) << read_text(fmt::format("{}/attempt{}.txt", dir, attempt));
    } else {
      // It finished first: take one result away so that the next attempt has work to kill.
      for (const auto& e : fs::directory_iterator(out + "/runs")) {
        fs::remove_all(e.path());
        break;
      }
    }
    // No job outlives its sweep, however the sweep ended.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (processes_mentioning(out) > 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(processes_mentioning(out), 0) << "orphan jobs after kill " << kills << (group ? " (group)" : " (SIGTERM)");
  }
  EXPECT_EQ(kills, 6);

  ASSERT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {1} --jobs 1", dir, out), dir + "/resumed.txt"), 0)
      << read_text(dir + "/resumed.txt");
  EXPECT_EQ(results(out), whole);
  EXPECT_NE(read_text(out + "/report.md").find("4 runs: 4 ok"), std::string::npos);
  for (const auto& e : fs::recursive_directory_iterator(out)) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(name.find(".partial"), std::string::npos) << e.path();
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << e.path();
    if (e.path().extension() == ".json") EXPECT_NO_THROW(nlohmann::json::parse(read_text(e.path().string()))) << e.path();
    if (e.path().extension() == ".jsonl") {
      std::ifstream in(e.path());
      for (std::string line; std::getline(in, line);) EXPECT_NO_THROW(nlohmann::json::parse(line)) << e.path();
    }
  }
}

// One writer per sweep folder: a second sweep on the same --out, with the same sweep file or
// another, is refused at once (exit 2, naming the folder and the holder) and the first ends well.
TEST(SweepEndToEnd, ASecondSweepOnTheSameFolderIsRefused) {
  auto dir = sweep_folder("sweep-lock");
  // Long enough (18 jobs of T = 5, about 18 s alone) that the two other sweeps' 3 s waits
  // for the lock end first, also on a loaded machine (9 jobs once did not, under ctest -j2).
  atomic_write(dir + "/base.toml", tiny_config(5));
  atomic_write(dir + "/sweep.toml", "base = \"base.toml\"\n[grid]\n\"optimizer.name\" = [\"adam\", \"sam\"]\n"
                                    "seed = [0, 1, 2, 3, 4, 5]\n");
  atomic_write(dir + "/other.toml", "base = \"base.toml\"\n[grid]\nseed = [5]\n");
  const std::string out = dir + "/out";
  const pid_t first = start_gda({"sweep", dir + "/sweep.toml", "--out", out, "--jobs", "1"}, dir + "/first.txt");
  ASSERT_GT(first, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  // Running once its first job has a log (TBB picks which job that is).
  while (!(fs::exists(out + "/logs") && !fs::is_empty(out + "/logs")) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (const char* sweep_file : {"sweep.toml", "other.toml"}) {
    EXPECT_EQ(gda(fmt::format("sweep {}/{} --out {} --jobs 1", dir, sweep_file, out), dir + "/second.txt"), 2);
    const std::string second = read_text(dir + "/second.txt");
    EXPECT_NE(second.find("the sweep folder " + out + " is in use by another process (pid " + std::to_string(first)),
              std::string::npos) << second;
  }
  int status = 0;
  waitpid(first, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << read_text(dir + "/first.txt");
  EXPECT_EQ(finished_runs(out), 12);
  EXPECT_NE(read_text(out + "/report.md").find("12 runs: 12 ok"), std::string::npos);
}

// A source model damaged on disk: its runs end with an error naming the file and the fix
// (not a numerical failure, not a finished result); after the fix a resume runs them.
TEST(SweepEndToEnd, ACorruptedSourceModelIsAnErrorThatAResumeRetries) {
  auto dir = sweep_folder("sweep-corrupt");
  atomic_write(dir + "/sweep.toml", "base = \"base.toml\"\n[grid]\n\"optimizer.name\" = [\"adam\", \"sam\"]\n");
  const std::string out = dir + "/out";
  ASSERT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {1} --jobs 1", dir, out), dir + "/first.txt"), 0);
  const auto first = results(out);
  std::string source;
  for (const auto& e : fs::directory_iterator(out + "/sources")) source = e.path().string();
  atomic_write(source + "/model.pt", "not a model");
  fs::remove_all(out + "/runs");
  EXPECT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {1} --jobs 1", dir, out), dir + "/second.txt"), 2);
  const std::string report = read_text(out + "/report.md");
  EXPECT_NE(report.find("2 runs: 0 ok, 0 failed (numeric), 2 errors"), std::string::npos) << report;
  // The first run that meets it says so and removes it, so that its source job is unfinished.
  EXPECT_NE(report.find("the source model " + source + " of this run is missing: it cannot be read"),
            std::string::npos) << report;
  EXPECT_NE(report.find("run gda sweep again, which trains it first"), std::string::npos) << report;
  EXPECT_FALSE(fs::exists(source));
  EXPECT_EQ(finished_runs(out), 0);
  // The message's own advice, a resume: the source model trained again, the same numbers as before.
  ASSERT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {1} --jobs 1", dir, out), dir + "/third.txt"), 0)
      << read_text(dir + "/third.txt");
  EXPECT_EQ(results(out), first);
}

TEST(SweepEndToEnd, AFailingJobIsRecordedAndTheOthersGoOn) {
  auto dir = temp_dir("sweep-fail");
  atomic_write(dir + "/base.toml", tiny_config(2));
  // lr 1e30 makes SGD's loss overflow: a numeric failure, recorded as a finished "failed" run.
  atomic_write(dir + "/sweep.toml", "base = \"base.toml\"\n[grid]\nseed = [0]\n"
                                    "[[points]]\n\"optimizer.name\" = \"sgd\"\n\"optimizer.lr\" = 1e30\n"
                                    "[[points]]\n\"optimizer.name\" = \"adam\"\n");
  // Exit 3: every job ran, one run failed numerically.
  EXPECT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {0}/out --jobs 1", dir), dir + "/out.txt"), 3)
      << read_text(dir + "/out.txt");
  const std::string report = read_text(dir + "/out/report.md");
  EXPECT_NE(report.find("1 failed (numeric)"), std::string::npos) << report;
  EXPECT_NE(report.find("Runs without a result"), std::string::npos) << report;
  EXPECT_EQ(finished_runs(dir + "/out"), 2);  // sgd (failed) and adam (the base point is the same run)
}

}  // namespace
}  // namespace gda::test
