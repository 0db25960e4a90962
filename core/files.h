#pragma once
#include <string>

namespace gda {

/// Writes `content` to `path` so that a reader sees the old file or the new one, never a
/// half-written one: write a temporary file beside it, flush, then rename over.
void atomic_write(const std::string& path, const std::string& content);

/// The whole file, or "" if it does not exist.
std::string read_text(const std::string& path);

}  // namespace gda
