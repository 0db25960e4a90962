#pragma once
// Where a TOML value sits in its file, for messages that name it: "file:line:col".
#include <fmt/format.h>

#include <string>
#include <string_view>
#include <toml++/toml.h>

#include "core/error.h"

namespace gda {

/// "file:line:col" of the node, or just the file when toml++ kept no position.
inline std::string where(const std::string& file, const toml::node& n) {
  const auto& b = n.source().begin;
  if (!b) return file;
  return fmt::format("{}:{}:{}", file, b.line, b.column);
}

/// Deepest nesting gda reads in a key ("a.b.c" is 3) or table header: configs use 2
/// (section.key) and sweep files 3 ([grid.section] key); far deeper TOML would only
/// exhaust the parser's stack (toml++ nests tables recursively).
constexpr int kMaxKeyDepth = 32;

/// Refuses, naming file:line, a key or table header nested deeper than kMaxKeyDepth, before
/// the text reaches the parser. A key starts a line, or follows '{' or ',' (inline tables);
/// dots in values, quotes, comments and multi-line strings are not counted. (Nested inline
/// tables and arrays are bounded by toml++ itself.)
inline void check_key_depth(std::string_view text, const std::string& file) {
  int line = 1, dots = 0;
  bool in_key = true, comment = false, multiline = false;
  char quote = 0;  // the open quote: '"' or '\''
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line, dots = 0, in_key = true, comment = false;
      if (!multiline) quote = 0;
      continue;
    }
    if (comment) continue;
    const bool triple = (c == '"' || c == '\'') && text.substr(i, 3) == std::string(3, c);
    if (triple && (!quote || (multiline && quote == c))) {  // opens or closes a multi-line string
      multiline = !multiline;
      quote = multiline ? c : 0;
      i += 2;
      continue;
    }
    if (quote) {
      if (c == '\\' && quote == '"') ++i;  // an escaped character
      else if (c == quote && !multiline) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    else if (c == '#') comment = true;
    else if (c == '=') in_key = false;
    else if (c == '{' || c == ',') in_key = true, dots = 0;
    else if (c == '.' && in_key && ++dots >= kMaxKeyDepth)
      throw UserError(fmt::format("{}:{}: a key nested more than {} deep; gda's keys are section.key (sweep "
                                  "files: grid.section.key)", file, line, kMaxKeyDepth));
  }
}

/// The text parsed as TOML, after check_key_depth; a syntax error is a UserError naming
/// file:line:col, the one format of every TOML file gda reads (configs and sweep files).
inline toml::table parse_toml(std::string_view text, const std::string& file) {
  check_key_depth(text, file);
  try {
    return toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    throw UserError(fmt::format("{}:{}:{}: TOML syntax error: {}", file, b.line, b.column, e.description()));
  }
}

}  // namespace gda
