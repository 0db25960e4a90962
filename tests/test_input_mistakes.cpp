// Careless input gets one clear message and exit 2 (issue 16's cases that the config
// reader and the CLI meet first): a mistake on the command line, a directory for a file,
// a section written as an array of tables, a value pasted far too long, a missing sweep file.
#include <fmt/format.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>

#include "core/files.h"
#include "pipeline/config.h"
#include "pipeline/sweep/plan.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

namespace fs = std::filesystem;

int gda(const std::string& args, const std::string& log) {
  return WEXITSTATUS(std::system(fmt::format("{} {} > {} 2>&1", GDA_BINARY, args, log).c_str()));
}

TEST(InputMistakes, CommandLineMistakesExitTwo) {
  const auto dir = temp_dir("cli-mistakes");
  atomic_write(dir + "/c.toml", tiny_config(1));
  EXPECT_EQ(gda(fmt::format("run {}/c.toml --seed abc", dir), dir + "/seed.txt"), 2) << read_text(dir + "/seed.txt");
  EXPECT_NE(read_text(dir + "/seed.txt").find("--seed"), std::string::npos) << read_text(dir + "/seed.txt");
  EXPECT_EQ(gda("run", dir + "/missing.txt"), 2);
  EXPECT_EQ(gda("frobnicate", dir + "/unknown.txt"), 2);
  EXPECT_EQ(gda("--help", dir + "/help.txt"), 0);
}

TEST(InputMistakes, ADirectoryIsNotAConfig) {
  const auto dir = temp_dir("dir-config");
  const std::string message = user_error_of([&] { load_config(dir); });
  EXPECT_NE(message.find("is a directory"), std::string::npos) << message;
  EXPECT_EQ(gda("validate " + dir, dir + "/../dir-config.txt"), 2);
}

TEST(InputMistakes, ASectionAsAnArrayOfTablesIsNamedOnce) {
  const std::string message = user_error_of([] { parse_config("[[data]]\nname = \"mnist\"\n", "t.toml"); });
  EXPECT_NE(message.find("t.toml:1:1: data must be a table ([data])"), std::string::npos) << message;
  EXPECT_EQ(message.find("keys of []"), std::string::npos) << message;
}

TEST(InputMistakes, AHugeValueIsCutInTheMessage) {
  const std::string huge(5'000'000, 'x');
  const std::string message =
      user_error_of([&] { parse_config("[evaluation]\ndomains = \"" + huge + "\"\n", "t.toml"); });
  EXPECT_NE(message.find("evaluation.domains must be one of"), std::string::npos) << message.substr(0, 300);
  EXPECT_NE(message.find("(5000002 characters)"), std::string::npos) << message.substr(0, 300);
  EXPECT_LT(message.size(), 1000u);
}

TEST(InputMistakes, TheRunDirectoryStaysInsideOutputDir) {
  for (const std::string name : {"../escape", "a/b", "..", "/tmp/x"}) {
    const std::string message =
        user_error_of([&] { parse_config("[output]\nname = \"" + name + "\"\n", "t.toml"); });
    EXPECT_NE(message.find("t.toml:2:8: output.name = \"" + name + "\": the run directory must be one folder"),
              std::string::npos) << message;
  }
  EXPECT_EQ(user_error_of([] { parse_config("[output]\nname = \"my-run\"\n", "t.toml"); }), "no error");
}

TEST(InputMistakes, SweepFilesThatAreMissingOrDirectories) {
  const auto dir = temp_dir("sweep-files");
  std::string message = user_error_of([&] { plan_sweep(dir + "/none.toml", 1); });
  EXPECT_NE(message.find("none.toml does not exist"), std::string::npos) << message;
  message = user_error_of([&] { plan_sweep(dir, 1); });
  EXPECT_NE(message.find("is a directory"), std::string::npos) << message;
  fs::create_directories(dir + "/base.toml");
  atomic_write(dir + "/sweep.toml", "base = \"base.toml\"\n[grid]\nseed = [0]\n");
  message = user_error_of([&] { plan_sweep(dir + "/sweep.toml", 1); });
  EXPECT_NE(message.find("is a directory, not a TOML config file"), std::string::npos) << message;
}

TEST(InputMistakes, TheSweepFilesTheDocsNameExist) {
  for (const std::string name : {"optimizers", "optimizer_family", "tram_gradual"}) {
    const std::string path = std::string(GDA_SOURCE_DIR) + "/configs/sweeps/" + name + ".toml";
    EXPECT_TRUE(fs::exists(path)) << path;
    EXPECT_EQ(user_error_of([&] { plan_sweep(path, 1); }), "no error") << path;
  }
}

}  // namespace
}  // namespace gda::test
