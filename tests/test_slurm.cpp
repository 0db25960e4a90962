// A tiny sweep through a real single-node Slurm (slurm-wlm and munge started on this machine
// by tests/slurm/start_local_slurm.sh): `gda sweep --launcher slurm` submits the job arrays,
// Slurm runs the sources, then the runs, then the report, and the report is checked. Skipped,
// with the reason printed, only where Slurm cannot start (not root, not installed).
#include <fmt/format.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/files.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

TEST(SlurmEndToEnd, ATinySweepRunsThroughJobArraysAndReports) {
  auto dir = temp_dir("slurm");
  const std::string start = fmt::format("bash {}/tests/slurm/start_local_slurm.sh > {}/start.txt 2>&1",
                                        GDA_SOURCE_DIR, dir);
  if (WEXITSTATUS(std::system(start.c_str())) != 0)
    GTEST_SKIP() << "Slurm cannot start here: " << read_text(dir + "/start.txt");

  atomic_write(dir + "/base.toml", tiny_config(2));
  atomic_write(dir + "/sweep.toml",
               "base = \"base.toml\"\n[grid]\n\"optimizer.name\" = [\"adam\", \"sam\"]\nseed = [0]\n");
  const std::string out = dir + "/out";
  const std::string submit = fmt::format("{} sweep {}/sweep.toml --out {} --launcher slurm > {}/submit.txt 2>&1",
                                         GDA_BINARY, dir, out, dir);
  ASSERT_EQ(WEXITSTATUS(std::system(submit.c_str())), 0) << read_text(dir + "/submit.txt");
  const std::string submitted = read_text(dir + "/submit.txt");
  EXPECT_NE(submitted.find("sources: Slurm job"), std::string::npos) << submitted;
  EXPECT_NE(submitted.find("runs: Slurm job"), std::string::npos) << submitted;
  EXPECT_NE(submitted.find("report: Slurm job"), std::string::npos) << submitted;

  // The report job runs last; wait for its file.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(400);
  while (!std::filesystem::exists(out + "/report.md") && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(std::filesystem::exists(out + "/report.md")) << "no report after 400 s; Slurm logs in " << out << "/slurm";
  const std::string report = read_text(out + "/report.md");
  EXPECT_NE(report.find("2 runs: 2 ok"), std::string::npos) << report;
  EXPECT_NE(report.find("1 source models trained"), std::string::npos) << report;
  EXPECT_NE(report.find("| adam | 1/1 |"), std::string::npos) << report;
  EXPECT_NE(report.find("| sam | 1/1 |"), std::string::npos) << report;
}

}  // namespace
}  // namespace gda::test
