// Tiny configs through the real pipeline: synthetic images, a small CNN, the flow graph,
// the result files and the CLI.
#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <torch/version.h>

#include "pipeline/config.h"
#include "core/error.h"
#include "core/files.h"
#include "pipeline/run.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

std::vector<nlohmann::json> stage_lines(const std::string& dir) {
  std::vector<nlohmann::json> v;
  std::ifstream in(dir + "/stages.jsonl");
  for (std::string line; std::getline(in, line);) v.push_back(nlohmann::json::parse(line));
  return v;
}

RunSummary run_tiny(const std::string& dir, int T = 2, const std::vector<std::string>& overrides = {}) {
  return run_experiment(parse_config(tiny_config(T), "tiny.toml", overrides), {dir, nullptr});
}

TEST(EndToEnd, TinyRunWritesEveryStageAndLearns) {
  auto dir = temp_dir("e2e");
  auto s = run_tiny(dir);
  EXPECT_EQ(s.status, RunStatus::ok);
  auto lines = stage_lines(dir);
  ASSERT_EQ(lines.size(), 4u);  // source + 2 intermediates + target
  std::vector<std::string> domains = {"source", "inter1", "inter2", "target"};
  for (int k = 0; k < 4; ++k) {
    EXPECT_EQ(lines[k]["stage"], k);
    EXPECT_EQ(lines[k]["domain"], domains[k]);
    EXPECT_EQ(lines[k]["accuracy"].size(), 4u);  // evaluation.domains = "all"
    EXPECT_GT(lines[k]["passes"]["forward"].get<int>(), 0);
  }
  EXPECT_DOUBLE_EQ(lines[2]["position"].get<double>(), 2.0 / 3.0);
  // 150 intermediate samples per domain; 10 % least confident dropped.
  EXPECT_EQ(lines[1]["domain_size"], 150);
  EXPECT_EQ(lines[1]["samples"], 135);
  // Three classes: chance is 1/3. The source model must be far above it on the source,
  // and the adapted model above chance on the target.
  EXPECT_GT(lines[0]["accuracy"]["source"].get<double>(), 0.9);
  EXPECT_GT(lines[3]["accuracy"]["target"].get<double>(), 0.4);  // chance: 0.33
  ASSERT_TRUE(s.final_target_accuracy);
  EXPECT_DOUBLE_EQ(*s.final_target_accuracy, lines[3]["accuracy"]["target"].get<double>());
  EXPECT_DOUBLE_EQ(*s.zero_shot_target_accuracy, lines[0]["accuracy"]["target"].get<double>());
  // Every result file is there, and the resolved config reproduces the run's config.
  for (auto f : {"config.resolved.toml", "summary.json", "table.md", "log.txt"})
    EXPECT_TRUE(std::filesystem::exists(dir + "/" + f)) << f;
  auto resolved = parse_config(read_text(dir + "/config.resolved.toml"), "resolved.toml");
  EXPECT_EQ(resolved.hash(), s.config_hash);
  auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  EXPECT_EQ(summary["status"], "ok");
  EXPECT_EQ(summary["threads"]["total"], 2);
  // Where and when it ran: the device (the CPU, or the GPU where there is one) and the context.
  EXPECT_NE(summary["device"].get<std::string>().find("LibTorch"), std::string::npos) << summary.dump();
  EXPECT_FALSE(summary["context"]["gda"].get<std::string>().empty());
  EXPECT_FALSE(summary["context"]["commit"].get<std::string>().empty());
  EXPECT_EQ(summary["context"]["libtorch"].get<std::string>().find(fmt::format("{}.", TORCH_VERSION_MAJOR)), 0u);
  EXPECT_EQ(summary["context"]["started"].get<std::string>().size(), 20u) << summary["context"].dump();
}

TEST(EndToEnd, SameConfigAndSeedGiveTheSameNumbers) {
  auto a = temp_dir("det-a"), b = temp_dir("det-b");
  run_tiny(a, 1);
  run_tiny(b, 1);
  auto la = stage_lines(a), lb = stage_lines(b);
  ASSERT_EQ(la.size(), lb.size());
  for (std::size_t k = 0; k < la.size(); ++k) {
    EXPECT_EQ(la[k]["accuracy"], lb[k]["accuracy"]) << k;
    EXPECT_EQ(la[k]["loss"], lb[k]["loss"]) << k;
  }
}

TEST(EndToEnd, TargetOnlyEvaluationAndZeroShot) {
  auto dir = temp_dir("e2e-zero");
  auto s = run_tiny(dir, 0, {"evaluation.domains=target"});
  auto lines = stage_lines(dir);
  ASSERT_EQ(lines.size(), 1u);  // T = 0: the source model straight to the target
  EXPECT_EQ(lines[0]["accuracy"].size(), 1u);
  EXPECT_TRUE(lines[0]["accuracy"].contains("target"));
  EXPECT_EQ(*s.final_target_accuracy, *s.zero_shot_target_accuracy);
}

TEST(EndToEnd, SamRunCountsTwiceThePasses) {
  auto a = temp_dir("passes-adam"), b = temp_dir("passes-sam");
  auto adam = run_tiny(a, 1);
  auto sam = run_tiny(b, 1, {"optimizer.name=sam", "source.optimizer=same"});
  EXPECT_EQ(sam.passes.forward, 2 * adam.passes.forward);
  EXPECT_EQ(sam.passes.backward, 2 * adam.passes.backward);
}

TEST(EndToEnd, NanLossFailsTheRunAndKeepsFinishedStages) {
  // A huge learning rate overflows the adaptation stages; the source stage finished first
  // (trained with [source]'s own optimizer) and must stay on disk.
  auto dir = temp_dir("nan");
  auto s = run_tiny(dir, 2, {"optimizer.lr=1e30", "source.epochs=1"});
  EXPECT_NE(s.error.find("inter1: loss is"), std::string::npos) << s.error;
  auto lines = stage_lines(dir);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["domain"], "source");
  EXPECT_EQ(s.status, RunStatus::failed);
  EXPECT_NE(s.error.find("loss is"), std::string::npos) << s.error;
  EXPECT_NE(s.error.find("at step"), std::string::npos) << s.error;
  auto summary = nlohmann::json::parse(read_text(dir + "/summary.json"));
  EXPECT_EQ(summary["status"], "failed");
}

TEST(EndToEnd, DataSizesLargerThanTheDatasetAreAUserError) {
  auto dir = temp_dir("too-big");
  try {
    run_experiment(parse_config(tiny_config(2), "tiny.toml", {"data.source_size=5000"}), {dir, nullptr});
    FAIL();
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the 600 examples"), std::string::npos) << e.what();
  }
}

TEST(Cli, ValidateAndRunReportUserErrorsWithExitCodeTwo) {
  auto dir = temp_dir("cli");
  std::ofstream(dir + "/bad.toml") << "[optimizer]\nname = \"sam\"\nrho = -0.1\n";
  std::string cmd = fmt::format("{} validate {}/bad.toml 2> {}/err.txt", GDA_BINARY, dir, dir);
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 2);
  EXPECT_NE(read_text(dir + "/err.txt").find("bad.toml:3:7: optimizer.rho must be > 0 (got -0.1)"), std::string::npos)
      << read_text(dir + "/err.txt");
  std::ofstream(dir + "/tiny.toml") << tiny_config(1);
  cmd = fmt::format("{} run {}/tiny.toml --seed 1 --out {}/run --set adaptation.epochs=1 > {}/out.txt 2>&1",
                    GDA_BINARY, dir, dir, dir);
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0) << read_text(dir + "/out.txt");
  EXPECT_NE(read_text(dir + "/out.txt").find("final target"), std::string::npos);
  EXPECT_NE(read_text(dir + "/run/config.resolved.toml").find("seed = 1"), std::string::npos);
  cmd = fmt::format("{} run {}/nope.toml 2> {}/err2.txt", GDA_BINARY, dir, dir);
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 2);
}

}  // namespace
}  // namespace gda::test
