// The folders stand in one order, core → datasets → stages → pipeline → tools (see
// docs/ARCHITECTURE.md): a file may include its own folder and the ones before it, never
// one after it. This test reads every source file's includes so the order stays true.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

const std::map<std::string, int> kLevel = {
    {"core", 0}, {"datasets", 1}, {"stages", 2}, {"pipeline", 3}, {"tools", 4}};

/// The level of a path relative to the source root ("stages/optim/sam.cpp" → 2), or -1.
int level_of(const std::string& relative) {
  auto slash = relative.find('/');
  if (slash == std::string::npos) return -1;
  auto it = kLevel.find(relative.substr(0, slash));
  return it == kLevel.end() ? -1 : it->second;
}

/// Every include of a project header in the file ("core/params.h", ...).
std::vector<std::string> project_includes(const fs::path& file) {
  static const std::regex include(R"(^\s*#\s*include\s*\"([^\"]+)\")");
  std::vector<std::string> found;
  std::ifstream in(file);
  std::string line;
  std::smatch m;
  while (std::getline(in, line))
    if (std::regex_search(line, m, include)) found.push_back(m[1]);
  return found;
}

TEST(Layout, NoIncludeRunsBackUpTheFolderOrder) {
  const fs::path root = GDA_SOURCE_DIR;
  std::vector<std::string> violations;
  std::size_t files = 0;
  for (const auto& [folder, level] : kLevel) {
    for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
      const auto ext = entry.path().extension();
      if (ext != ".h" && ext != ".cpp") continue;
      ++files;
      for (const auto& inc : project_includes(entry.path())) {
        const int included = level_of(inc);
        if (included > level)
          violations.push_back(fs::relative(entry.path(), root).string() + " includes " + inc);
      }
    }
  }
  EXPECT_GT(files, 50u) << "the scan found too few files; is GDA_SOURCE_DIR right?";
  std::string all;
  for (const auto& v : violations) all += "\n  " + v;
  EXPECT_TRUE(violations.empty()) << "includes against the folder order core → datasets → stages → "
                                     "pipeline → tools:" << all;
}

TEST(Layout, LevelOfKnowsEachFolder) {
  EXPECT_EQ(level_of("core/params.h"), 0);
  EXPECT_EQ(level_of("stages/optim/sam.cpp"), 2);
  EXPECT_EQ(level_of("pipeline/run.h"), 3);
  EXPECT_EQ(level_of("tools/sweep_commands.h"), 4);
  EXPECT_EQ(level_of("gtest/gtest.h"), -1);
}

}  // namespace
