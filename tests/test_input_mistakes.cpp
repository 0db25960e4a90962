// Careless input gets one clear message and exit 2 (issue 16's cases that the config
// reader and the CLI meet first): a mistake on the command line, a directory for a file,
// a section written as an array of tables, a value pasted far too long, a missing sweep file.
#include <fmt/format.h>
#include <sys/wait.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <sstream>
#include <filesystem>

#include "core/files.h"
#include "pipeline/config.h"
#include "pipeline/run.h"
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

TEST(InputMistakes, AKeyGivenTwiceOnTheCommandLineIsRefused) {
  const auto dir = temp_dir("cli-twice");
  atomic_write(dir + "/c.toml", tiny_config(1));
  EXPECT_EQ(gda(fmt::format("validate {}/c.toml --set optimizer.lr=0.1 --set optimizer.lr=0.2", dir), dir + "/a.txt"), 2);
  EXPECT_NE(read_text(dir + "/a.txt").find("optimizer.lr is given twice on the command line (optimizer.lr=0.1 and "
                                           "optimizer.lr=0.2)"), std::string::npos) << read_text(dir + "/a.txt");
  EXPECT_EQ(gda(fmt::format("run {}/c.toml --seed 3 --set seed=4 --out {}/run", dir, dir), dir + "/b.txt"), 2);
  EXPECT_NE(read_text(dir + "/b.txt").find("seed is given twice"), std::string::npos) << read_text(dir + "/b.txt");
  EXPECT_FALSE(fs::exists(dir + "/run"));
}

// Output that cannot go where it is asked to is exit 2 naming the path, never an internal
// error: a folder under /proc, a file in the way, a folder that holds something else.
TEST(InputMistakes, OutputPathsThatCannotBeWrittenExitTwo) {
  const auto dir = temp_dir("out-paths");
  atomic_write(dir + "/c.toml", tiny_config(1));
  atomic_write(dir + "/sweep.toml", "base = \"c.toml\"\n[grid]\nseed = [0]\n");
  atomic_write(dir + "/file", "x");
  for (const std::string& out : {std::string("/proc/gda-run"), dir + "/file", dir + "/file/sub"}) {
    EXPECT_EQ(gda(fmt::format("run {}/c.toml --out {}", dir, out), dir + "/run.txt"), 2) << out;
    EXPECT_NE(read_text(dir + "/run.txt").find(out), std::string::npos) << read_text(dir + "/run.txt");
    EXPECT_EQ(gda(fmt::format("sweep {}/sweep.toml --out {}", dir, out), dir + "/sweep.txt"), 2) << out;
    EXPECT_NE(read_text(dir + "/sweep.txt").find(out), std::string::npos) << read_text(dir + "/sweep.txt");
    EXPECT_EQ(read_text(dir + "/sweep.txt").find("internal error"), std::string::npos) << read_text(dir + "/sweep.txt");
  }
  // A folder with other things in it (a home directory, say) is not taken over.
  fs::create_directories(dir + "/home/papers");
  EXPECT_EQ(gda(fmt::format("run {}/c.toml --out {}/home", dir, dir), dir + "/home.txt"), 2);
  EXPECT_NE(read_text(dir + "/home.txt").find("is not empty and holds no earlier run (it has papers)"),
            std::string::npos) << read_text(dir + "/home.txt");
  EXPECT_FALSE(fs::exists(dir + "/home/log.txt"));
}

TEST(InputMistakes, ASourceOfOneExampleIsRefused) {
  const std::string message = user_error_of([] { parse_config("[data]\nsource_size = 1\n", "t.toml"); });
  EXPECT_NE(message.find("t.toml:2:15: data.source_size must be >= 2"), std::string::npos) << message;
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

TEST(InputMistakes, SweepFilesNestedThousandsDeepAreRefused) {
  const auto dir = temp_dir("sweep-deep");
  std::string key = "grid.a";
  for (int i = 0; i < 50000; ++i) key += ".b";
  atomic_write(dir + "/sweep.toml", "base = \"base.toml\"\n" + key + " = [1]\n");
  const std::string message = user_error_of([&] { plan_sweep(dir + "/sweep.toml", 1); });
  EXPECT_NE(message.find("sweep.toml:2: a key nested more than 32 deep"), std::string::npos) << message;
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

// Every config and sweep file README.md and docs/ name exists and is valid: a config
// validates, a sweep file plans (which validates each of its points).
TEST(InputMistakes, TheConfigsAndSweepFilesTheDocsNameExistAndAreValid) {
  const std::regex named("configs/[A-Za-z0-9_/.-]+\\.toml");
  std::set<std::string> files;
  std::vector<fs::path> docs = {fs::path(GDA_SOURCE_DIR) / "README.md"};
  for (const auto& e : fs::recursive_directory_iterator(fs::path(GDA_SOURCE_DIR) / "docs"))
    if (e.is_regular_file() && (e.path().extension() == ".md" || e.path().extension() == ".toml")) docs.push_back(e.path());
  for (const auto& doc : docs) {
    const std::string text = read_text(doc.string());
    for (auto m = std::sregex_iterator(text.begin(), text.end(), named); m != std::sregex_iterator(); ++m)
      files.insert(m->str());
  }
  EXPECT_GE(files.size(), 8u);
  for (const auto& name : files) {
    const std::string path = std::string(GDA_SOURCE_DIR) + "/" + name;
    EXPECT_TRUE(fs::exists(path)) << name << " is named in the docs but missing";
    // A sweep file names its base config (configs/sweeps/, and the protocols' tables).
    const bool sweep = fs::exists(path) && ("\n" + read_text(path)).find("\nbase = ") != std::string::npos;
    if (sweep) EXPECT_EQ(user_error_of([&] { plan_sweep(path, 1); }), "no error") << path;
    else EXPECT_EQ(user_error_of([&] { load_config(path); }), "no error") << path;
  }
}

// Fuzzing (issue 16), configs: every key of the resolved config set to values at the limits
// of every type and to values of other types, then random text mutants of the whole file.
// Each goes through the validator: accepted, or refused with a UserError naming the file
// (or, for a --set, the key). What it accepts and costs no more than the tiny run also
// runs: it ends ok, failed (numeric) or error, and nothing else escapes.
std::string fuzz_base() {
  std::string text = tiny_config(1, "") + "[evaluation]\ndomains = \"all\"\n";
  text.replace(text.find("epochs = 10"), 11, "epochs = 2");  // source training: the runs stay short
  return text;
}

/// The resolved text with `key` of `section` ("" = top level) given `value`.
std::string with_value(const std::string& resolved, const std::string& section, const std::string& key,
                       const std::string& value) {
  std::istringstream in(resolved);
  std::string out, current;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '[') current = line.substr(1, line.find(']') - 1);
    else if (current == section && line.rfind(key + " = ", 0) == 0) line = key + " = " + value;
    out += line + "\n";
  }
  return out;
}

/// The values tried for every key: each type's limits, other types, hostile strings.
std::vector<std::string> fuzz_values() {
  return {"0", "-1", "1", "2", "2147483648", "4294967296", "9223372036854775807", "-9223372036854775808",
          "0.0", "-0.0", "1e-320", "0.5", "3.4e38", "-3.4e38", "1e308", "nan", "-inf",
          "\"\"", "\"../../x\"", "\"" + std::string(300, 'z') + "\"", "\"\\u0000\"", "\"sam\"", "\"\xc3\xa9\"",
          "true", "[]", "[1, \"a\"]", "{}", "{ a = 1 }", "1979-05-27"};
}

/// A random text mutant: cut short, a character deleted or inserted, a line repeated or moved.
std::string text_mutant(std::string text, std::mt19937& random) {
  auto at = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n)(random); };
  const std::string inserts = "[]{}=\".,#\n\\' \t\x01\xff" "0a-+eE";
  switch (at(4)) {
    case 0: return text.substr(0, at(text.size()));
    case 1: return text.erase(at(text.size() - 1), 1);
    case 2: return text.insert(at(text.size()), 1, inserts[at(inserts.size() - 1)]);
    default: {
      std::vector<std::string> lines;
      std::istringstream in(text);
      for (std::string line; std::getline(in, line);) lines.push_back(line);
      const std::size_t from = at(lines.size() - 1), to = at(lines.size() - 1);
      if (at(1)) lines.insert(lines.begin() + long(to), lines[from]);
      else std::swap(lines[from], lines[to]);
      std::string out;
      for (const auto& l : lines) out += l + "\n";
      return out;
    }
  }
}

/// Parses `text` as fuzz.toml; a refusal must name the file. Returns the config when accepted.
std::optional<Config> validated(const std::string& text, const std::string& what) {
  try {
    return parse_config(text, "fuzz.toml");
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("fuzz.toml"), std::string::npos) << what << ": " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": not a UserError: " << e.what();
  }
  return std::nullopt;
}

TEST(ConfigFuzz, EveryKeyAtTypeLimitsAndTextMutantsAreAcceptedOrRefusedByName) {
  const Config base = parse_config(fuzz_base(), "fuzz.toml");
  const std::string resolved = base.to_toml();
  const auto dir = temp_dir("config-fuzz");
  int tried = 0, accepted = 0, ran = 0;
  std::map<std::string, int> statuses;
  for (const auto& [section, params] : base.sections())
    for (const auto& [key, value] : params.values())
      for (const std::string& v : fuzz_values()) {
        const std::string what = (section.empty() ? key : section + "." + key) + " = " + v.substr(0, 40);
        const std::string text = with_value(resolved, section, key, v);
        ++tried;
        const auto config = validated(text, what);
        if (!config) continue;
        ++accepted;
        // A short run for what costs no more than the tiny run: large counts are the
        // validator's to bound, and a run of them would only be long.
        const bool large = v.size() > 2 && v.find_first_not_of("0123456789") == std::string::npos;
        if (large || section == "output" || ran >= 80) continue;
        ++ran;
        try {
          const RunSummary s = run_experiment(*config, {dir + "/run", nullptr});
          ++statuses[status_name(s.status)];
          EXPECT_NE(s.status, RunStatus::running) << what;
        } catch (const UserError& e) {
          ++statuses["refused at start"];
        } catch (const std::exception& e) {
          ADD_FAILURE() << what << ": the run threw " << e.what();
        }
      }
  std::mt19937 random(1602);
  for (int i = 0; i < 300; ++i, ++tried) accepted += validated(text_mutant(fuzz_base(), random), fmt::format("text mutant {}", i)).has_value();
  EXPECT_GT(tried, 1000);
  EXPECT_GT(accepted, 50);  // the mutants reach the runs, not only the validator
  EXPECT_GT(ran, 40);
  std::string seen;
  for (const auto& [status, n] : statuses) seen += fmt::format(" {} {}", status, n);
  std::cout << "config fuzz: " << tried << " configs, " << accepted << " accepted, " << ran << " runs:" << seen << "\n";
}

}  // namespace
}  // namespace gda::test
