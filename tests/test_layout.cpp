// The shape of the source tree (docs/ARCHITECTURE.md), checked so that it stays true:
// - the folders stand in one order, core → datasets → stages → pipeline → tools: a file may
//   include its own folder and the ones before it, never one after it;
// - no function body runs over 60 lines (registration and schema tables excepted).
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

/// stages/' sub-folders in their order: a file includes its own sub-folder and the ones
/// before it (a model knows no optimizer; a stage's training knows generators, analysis,
/// evaluation, optimizers and models).
const std::map<std::string, int> kStagesOrder = {{"models", 0}, {"optim", 1}, {"eval", 2},
                                                 {"analysis", 3}, {"shift", 4}, {"train", 5}};

/// The order of a path's stages/ sub-folder ("stages/optim/sam.cpp" → 1), or -1.
int stages_order_of(const std::string& relative) {
  if (relative.rfind("stages/", 0) != 0) return -1;
  const std::string sub = relative.substr(7, relative.find('/', 7) - 7);
  const auto it = kStagesOrder.find(sub);
  return it == kStagesOrder.end() ? -1 : it->second;
}

TEST(Layout, StagesSubFoldersHaveNoLoop) {
  const fs::path root = GDA_SOURCE_DIR;
  std::vector<std::string> violations;
  for (const auto& entry : fs::recursive_directory_iterator(root / "stages")) {
    const auto ext = entry.path().extension();
    if (ext != ".h" && ext != ".cpp") continue;
    const std::string self = fs::relative(entry.path(), root).string();
    EXPECT_GE(stages_order_of(self), 0) << self << ": a stages/ sub-folder without its place in kStagesOrder";
    for (const auto& inc : project_includes(entry.path()))
      if (stages_order_of(inc) > stages_order_of(self)) violations.push_back(self + " includes " + inc);
  }
  std::string all;
  for (const auto& v : violations) all += "\n  " + v;
  EXPECT_TRUE(violations.empty()) << "includes against the order of stages/ (models → optim → eval → analysis → "
                                     "shift → train):" << all;
}

/// Function bodies longer than `limit` lines in the file: "file:line: head (n lines)". A
/// function starts at a line at indent 0 or 2 that holds a '(' (its signature may go on for
/// a few lines, up to the one ending in '{') and ends at the '}' of the same indent. Control
/// statements, types, namespaces, templates' heads and initialised tables (a '=' before the
/// first '(': registrations) do not count.
std::vector<std::string> long_functions(const fs::path& file, const std::string& name, std::size_t limit) {
  static const std::regex head(R"(^( {0,2})[^\s/}#].*)");
  static const std::regex not_function(
      R"(^\s*(namespace|struct|class|enum|union|extern|if|for|while|switch|else|do|try|catch|template|return)\b)");
  std::vector<std::string> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  auto ends_with = [](const std::string& l, char c) {
    const auto last = l.find_last_not_of(" \t\r");
    return last != std::string::npos && l[last] == c;
  };
  std::vector<std::string> found;
  std::smatch m;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    const auto paren = l.find('(');
    if (paren == std::string::npos || !std::regex_match(l, m, head) || std::regex_search(l, not_function) ||
        l.substr(0, paren).find('=') != std::string::npos)
      continue;
    std::size_t open = i;  // the signature's last line
    while (open < lines.size() && open < i + 8 && !ends_with(lines[open], '{') && !ends_with(lines[open], ';')) ++open;
    if (open >= lines.size() || open >= i + 8 || !ends_with(lines[open], '{')) continue;
    const std::string close = m[1].str() + "}";
    std::size_t j = open + 1;
    while (j < lines.size() && lines[j].compare(0, close.size(), close) != 0) ++j;
    if (j - i + 1 > limit)
      found.push_back(name + ":" + std::to_string(i + 1) + ": " + l.substr(0, 70) + " (" +
                      std::to_string(j - i + 1) + " lines)");
    i = j;
  }
  return found;
}

TEST(Layout, NoFunctionRunsOverSixtyLines) {
  const fs::path root = GDA_SOURCE_DIR;
  std::vector<std::string> found;
  for (const auto& [folder, level] : kLevel)
    for (const auto& entry : fs::recursive_directory_iterator(root / folder)) {
      const auto ext = entry.path().extension();
      if (ext != ".h" && ext != ".cpp") continue;
      for (auto& f : long_functions(entry.path(), fs::relative(entry.path(), root).string(), 60))
        found.push_back(f);
    }
  std::string all;
  for (const auto& f : found) all += "\n  " + f;
  EXPECT_TRUE(found.empty()) << "split these into named steps:" << all;
}

TEST(Layout, LongFunctionsAreFound) {
  const auto file = fs::temp_directory_path() / "gda_layout_long.cpp";
  {
    std::ofstream out(file);
    out << "int short_one(int x) {\n  return x;\n}\n\nint long_one(int x,\n             int y) {\n";
    for (int i = 0; i < 70; ++i) out << "  x += " << i << ";\n";
    out << "  return x;\n}\n\nconst bool registered = add({\n";
    for (int i = 0; i < 70; ++i) out << "  " << i << ",\n";
    out << "});\n";
  }
  const auto found = long_functions(file, "f.cpp", 60);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0].find("f.cpp:5: int long_one"), std::string::npos) << found[0];
  fs::remove(file);
}

TEST(Layout, LevelOfKnowsEachFolder) {
  EXPECT_EQ(level_of("core/params.h"), 0);
  EXPECT_EQ(level_of("stages/optim/sam.cpp"), 2);
  EXPECT_EQ(level_of("pipeline/run.h"), 3);
  EXPECT_EQ(level_of("tools/sweep_commands.h"), 4);
  EXPECT_EQ(level_of("gtest/gtest.h"), -1);
}

}  // namespace
