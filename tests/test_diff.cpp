// `gda diff A B` (pipeline/config_diff.h): configs compared resolved, runs with their build,
// sweep folders with their swept keys; exit 0 equal, 1 different, 2 on bad input.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>

#include "core/error.h"
#include "core/files.h"
#include "pipeline/config.h"
#include "pipeline/config_diff.h"
#include "pipeline/run.h"
#include "pipeline/sweep/plan.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

/// gda diff's exit code, its output in `out`.
int gda_diff(const std::string& a, const std::string& b, std::string& out) {
  const std::string log = temp_dir("diff-log") + "/out.txt";
  const int rc = std::system(fmt::format("{} diff {} {} > {} 2>&1", GDA_BINARY, a, b, log).c_str());
  out = read_text(log);
  return WEXITSTATUS(rc);
}

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

TEST(Diff, ConfigsAreComparedResolved) {
  const std::string dir = temp_dir("diff-configs");
  write(dir + "/a.toml", "[optimizer]\nname = \"adam\"\n");
  // The same run spelt out (adam's lr at its default) is no difference.
  write(dir + "/same.toml", "[optimizer]\nname = \"adam\"\nlr = 1e-3\n");
  write(dir + "/b.toml", "seed = 4\n[optimizer]\nname = \"sam\"\nrho = 0.1\n");
  EXPECT_EQ(describe_difference(diff_side(dir + "/a.toml"), diff_side(dir + "/same.toml")), "");
  const std::string d = describe_difference(diff_side(dir + "/a.toml"), diff_side(dir + "/b.toml"));
  EXPECT_NE(d.find("(top level)\n  seed"), std::string::npos) << d;
  EXPECT_NE(d.find("[optimizer]\n"), std::string::npos) << d;
  EXPECT_NE(d.find("\"adam\"  |  \"sam\""), std::string::npos) << d;
  EXPECT_NE(d.find("rho"), std::string::npos) << d;
  EXPECT_NE(d.find("(none)  |  0.1"), std::string::npos) << d;
  EXPECT_EQ(d.find("[data]"), std::string::npos) << d;  // equal sections are not printed
  std::string out;
  EXPECT_EQ(gda_diff(dir + "/a.toml", dir + "/same.toml", out), 0) << out;
  EXPECT_EQ(gda_diff(dir + "/a.toml", dir + "/b.toml", out), 1) << out;
  EXPECT_NE(out.find("\"adam\"  |  \"sam\""), std::string::npos) << out;
}

TEST(Diff, RunsShowTheirConfigsAndTheirBuild) {
  const std::string dir = temp_dir("diff-runs");
  const std::vector<std::string> quick = {"source.epochs=1", "adaptation.epochs=1"};
  auto with = [&](std::vector<std::string> o) {
    o.insert(o.end(), quick.begin(), quick.end());
    return o;
  };
  ASSERT_EQ(run_experiment(parse_config(tiny_config(1), "tiny.toml", with({})), {dir + "/a", nullptr}).status,
            RunStatus::ok);
  ASSERT_EQ(run_experiment(parse_config(tiny_config(1), "tiny.toml", with({"adaptation.drop_fraction=0.2"})),
                           {dir + "/b", nullptr})
                .status,
            RunStatus::ok);
  EXPECT_EQ(describe_difference(diff_side(dir + "/a"), diff_side(dir + "/a")), "");
  const std::string d = describe_difference(diff_side(dir + "/a"), diff_side(dir + "/b"));
  EXPECT_NE(d.find("[adaptation]\n  drop_fraction"), std::string::npos) << d;
  EXPECT_EQ(d.find("[build]"), std::string::npos) << d;  // one build ran both
  // A run made by another build says so.
  std::string summary = read_text(dir + "/b/summary.json");
  const std::string commit = "\"commit\": \"";
  const auto at = summary.find(commit);
  ASSERT_NE(at, std::string::npos) << summary;
  summary.insert(at + commit.size(), "other-");
  write(dir + "/b/summary.json", summary);
  EXPECT_NE(describe_difference(diff_side(dir + "/a"), diff_side(dir + "/b")).find("[build]\n  commit"),
            std::string::npos);
  // A run against a config: the run's resolved keys against the config's.
  write(dir + "/c.toml", tiny_config(1));
  EXPECT_NE(describe_difference(diff_side(dir + "/a"), diff_side(dir + "/c.toml")).find("epochs"), std::string::npos);
}

TEST(Diff, SweepFoldersShowWhatTheySweep) {
  const std::string dir = temp_dir("diff-sweeps");
  write(dir + "/base.toml", tiny_config(1));
  write(dir + "/a.toml", "base = \"base.toml\"\n[grid]\n\"optimizer.name\" = [\"adam\", \"sam\"]\nseed = [0, 1]\n");
  write(dir + "/b.toml", "base = \"base.toml\"\n[grid]\n\"optimizer.name\" = [\"adam\"]\nseed = [0, 1]\n"
                         "[set]\n\"shift.T\" = 2\n");
  for (const std::string name : {"a", "b"}) {  // the folder gda sweep makes before any job runs
    std::filesystem::create_directories(dir + "/sweep-" + name);
    write(dir + "/sweep-" + name + "/plan.json", plan_sweep(dir + "/" + name + ".toml", 1).to_json());
  }
  const std::string d = describe_difference(diff_side(dir + "/sweep-a"), diff_side(dir + "/sweep-b"));
  EXPECT_NE(d.find("swept: \"adam\", \"sam\"  |  swept: \"adam\""), std::string::npos) << d;
  EXPECT_NE(d.find("[shift]\n  T"), std::string::npos) << d;
  EXPECT_EQ(d.find("seed"), std::string::npos) << d;  // swept alike on both sides
}

TEST(Diff, BadPathsAreInputMistakes) {
  const std::string dir = temp_dir("diff-bad");
  write(dir + "/a.toml", "");
  std::string out;
  EXPECT_EQ(gda_diff(dir + "/a.toml", dir + "/missing.toml", out), 2) << out;
  EXPECT_NE(out.find("missing.toml: no such file or folder"), std::string::npos) << out;
  EXPECT_EQ(gda_diff(dir, dir + "/a.toml", out), 2) << out;  // a folder that is neither a run nor a sweep
  EXPECT_NE(out.find("without config.resolved.toml"), std::string::npos) << out;
  write(dir + "/bad.toml", "[optimizer\n");
  EXPECT_EQ(gda_diff(dir + "/bad.toml", dir + "/a.toml", out), 2) << out;
  EXPECT_NE(out.find("bad.toml:1"), std::string::npos) << out;
}

}  // namespace
}  // namespace gda::test
