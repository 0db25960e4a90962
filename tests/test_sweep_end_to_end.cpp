// Tiny sweeps through the real CLI (gda sweep / job / report as child processes): shared
// source models, results that do not depend on the number of jobs or on sharing, and a
// resume after the sweep is killed with SIGKILL mid-way.
#include <fmt/format.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
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
