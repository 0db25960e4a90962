// A mistake in the input that shows only once stages run (here: ot_path asked for a dense
// Sinkhorn plan, found when the first plan is about to be solved, after source training)
// ends the run with status "error" and exit 2, keeps the stages already finished, and in a
// sweep leaves the job unfinished with its error in failed/, so that a resume retries it
// instead of recording a result.
#include <fmt/format.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "pipeline/config.h"
#include "pipeline/run.h"
#include "tests/gaussian_run.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

namespace fs = std::filesystem;

/// ot_path with Sinkhorn and no entry cutoff between 200 source and 150 target points: a
/// dense plan that ot_path refuses when it meets it, after stage 0.
std::string dense_plan_config() {
  GaussianRun run;
  run.shift = R"(generator = "ot_path"
endpoints = "rotation"
T = 0
solver = "sinkhorn"
intermediate_start = 10.0
intermediate_end = 60.0
target_min = 55.0
target_max = 60.0)";
  run.adaptation_epochs = 1;
  return gaussian_run_config(run);
}

int gda(const std::string& args, const std::string& log) {
  return WEXITSTATUS(std::system(fmt::format("{} {} > {} 2>&1", GDA_BINARY, args, log).c_str()));
}

TEST(MidRunErrors, EndTheRunWithStatusErrorAndKeepFinishedStages) {
  const auto dir = temp_dir("mid-run-error");
  const RunSummary s = run_experiment(parse_config(dense_plan_config(), "dense.toml"), {dir, nullptr});
  EXPECT_EQ(s.status, RunStatus::error);
  EXPECT_NE(s.error.find("shift.entry_cutoff"), std::string::npos) << s.error;
  const auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  EXPECT_EQ(summary["status"], "error");
  // Stage 0 (the source model) finished before the plan was refused and stays recorded.
  const std::string stages = read_text(dir + "/stages.jsonl");
  EXPECT_NE(stages.find("\"domain\":\"source\""), std::string::npos) << stages;
}

TEST(MidRunErrors, ExitTwoFromTheCli) {
  const auto dir = temp_dir("mid-run-error-cli");
  atomic_write(dir + "/dense.toml", dense_plan_config());
  EXPECT_EQ(gda(fmt::format("run {0}/dense.toml --out {0}/run", dir), dir + "/out.txt"), 2)
      << read_text(dir + "/out.txt");
  EXPECT_NE(read_text(dir + "/out.txt").find("entry_cutoff"), std::string::npos) << read_text(dir + "/out.txt");
}

TEST(MidRunErrors, InASweepTheJobStaysUnfinishedAndIsRetried) {
  const auto dir = temp_dir("mid-run-error-sweep");
  atomic_write(dir + "/base.toml", dense_plan_config());
  atomic_write(dir + "/sweep.toml", "base = \"base.toml\"\n[grid]\nseed = [0]\n");
  const std::string sweep = fmt::format("sweep {0}/sweep.toml --out {0}/out --jobs 1", dir);
  EXPECT_EQ(gda(sweep, dir + "/first.txt"), 2) << read_text(dir + "/first.txt");
  ASSERT_TRUE(fs::exists(dir + "/out/runs"));
  int finished = 0, failures = 0;
  for (const auto& e : fs::directory_iterator(dir + "/out/runs")) finished += e.path().extension() != ".partial";
  for (const auto& e : fs::directory_iterator(dir + "/out/failed")) failures += e.path().extension() == ".txt";
  EXPECT_EQ(finished, 0);
  EXPECT_EQ(failures, 1);
  const std::string report = read_text(dir + "/out/report.md");
  EXPECT_NE(report.find("1 errors"), std::string::npos) << report;
  EXPECT_NE(report.find("entry_cutoff"), std::string::npos) << report;
  // The resume runs the job again (and meets the same mistake): not skipped as finished.
  EXPECT_EQ(gda(sweep, dir + "/second.txt"), 2);
  EXPECT_NE(read_text(dir + "/second.txt").find("1 were already finished, 1 ended with an error"), std::string::npos)
      << read_text(dir + "/second.txt");
  EXPECT_NE(read_text(dir + "/out/logs/1.log").find("entry_cutoff"), std::string::npos);
}

}  // namespace
}  // namespace gda::test
