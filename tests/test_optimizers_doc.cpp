// docs/OPTIMIZERS.md keeps hand-written prose, but its table of optimizers, costs and key
// defaults is generated from the registry, so a default cannot be written twice.
#include <fstream>
#include <sstream>

#include "pipeline/config_reference.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

TEST(OptimizersDoc, TableIsGeneratedFromTheRegistry) {
  const std::string path = std::string(GDA_SOURCE_DIR) + "/docs/OPTIMIZERS.md";
  std::ifstream in(path);
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string doc = buf.str();
  const std::string begin = std::string(kOptimizerTableBegin) + "\n", end = kOptimizerTableEnd;
  const auto from = doc.find(begin), to = doc.find(end);
  ASSERT_NE(from, std::string::npos) << path << " lacks the line " << begin;
  ASSERT_NE(to, std::string::npos) << path << " lacks the line " << end;
  const std::string generated = optimizer_table_markdown();
  if (doc.substr(from + begin.size(), to - from - begin.size()) == generated) return;
  // Write the file as it should be, for the developer to copy over the committed one.
  const std::string fixed = temp_dir("optimizers-doc") + "/OPTIMIZERS.md";
  std::ofstream(fixed) << doc.substr(0, from + begin.size()) << generated << doc.substr(to);
  ADD_FAILURE() << "the optimizer table of docs/OPTIMIZERS.md differs from the registry; regenerate:\n"
                << "  cp " << fixed << " docs/OPTIMIZERS.md";
}

}  // namespace
}  // namespace gda::test
