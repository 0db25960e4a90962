#pragma once
// docs/CONFIG.md, written from the schema the loader validates against, so the
// documentation cannot drift from the code: `gda list config > docs/CONFIG.md`, and a
// test fails when the committed file differs.
#include <string>

namespace gda {

/// Every section and key (with each registered component's own keys) as Markdown.
std::string config_reference_markdown();

/// docs/OPTIMIZERS.md's overview table: every registered optimizer with its summary, passes
/// per step and keys with their defaults. The file holds it between the two marker lines below;
/// a test fails when it differs.
std::string optimizer_table_markdown();
inline const char* const kOptimizerTableBegin = "<!-- optimizer table: generated from the registry, see tests/test_optimizers_doc.cpp -->";
inline const char* const kOptimizerTableEnd = "<!-- end of the generated optimizer table -->";

}  // namespace gda
