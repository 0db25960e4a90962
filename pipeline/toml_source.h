#pragma once
// Where a TOML value sits in its file, for messages that name it: "file:line:col".
#include <fmt/format.h>

#include <string>
#include <toml++/toml.h>

namespace gda {

/// "file:line:col" of the node, or just the file when toml++ kept no position.
inline std::string where(const std::string& file, const toml::node& n) {
  const auto& b = n.source().begin;
  if (!b) return file;
  return fmt::format("{}:{}:{}", file, b.line, b.column);
}

}  // namespace gda
