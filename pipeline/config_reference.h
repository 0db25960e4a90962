#pragma once
// docs/CONFIG.md, written from the schema the loader validates against, so the
// documentation cannot drift from the code: `gda list config > docs/CONFIG.md`, and a
// test fails when the committed file differs.
#include <string>

namespace gda {

/// Every section and key (with each registered component's own keys) as Markdown.
std::string config_reference_markdown();

}  // namespace gda
