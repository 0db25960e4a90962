// docs/CONFIG.md is generated from the schema; it must match the code that validates.
#include <fstream>
#include <sstream>

#include "pipeline/config_reference.h"
#include "pipeline/config_schema.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(ConfigReference, NamesEverySectionAndKey) {
  const std::string md = config_reference_markdown();
  for (const auto& section : config_schema()) {
    if (!section.name.empty()) EXPECT_NE(md.find("## `[" + section.name + "]`"), std::string::npos);
    for (const auto& k : section.keys) EXPECT_NE(md.find("| `" + k.name + "` |"), std::string::npos) << k.name;
  }
  for (const auto& name : optimizer_registry().names())
    EXPECT_NE(md.find("`optimizer.name = \"" + name + "\"`"), std::string::npos) << name;
}

TEST(ConfigReference, DocsConfigMdIsUpToDate) {
  const std::string committed = read_text(std::string(GDA_SOURCE_DIR) + "/docs/CONFIG.md");
  EXPECT_TRUE(committed == config_reference_markdown())
      << "docs/CONFIG.md differs from the config schema; regenerate it with\n"
         "  ./build/gda list config > docs/CONFIG.md";
}

}  // namespace
}  // namespace gda::test
