#include "pipeline/sweep/gnuplot_text.h"

#include <cctype>

namespace gda {
namespace {

bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

}  // namespace

std::string gnuplot_quoted(std::string_view text) {
  std::string out = "'";
  for (const char c : text) {
    if (is_control(c)) out += ' ';
    else if (c == '\'') out += "''";
    else out += c;
  }
  return out + "'";
}

std::string gnuplot_data_text(std::string_view text) {
  std::string out;
  for (const char c : text) out += is_control(c) ? ' ' : c == '"' ? '\'' : c;
  return out;
}

bool plain_file_name_part(std::string_view name) {
  if (name.empty()) return false;
  for (const char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace gda
