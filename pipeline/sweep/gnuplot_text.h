#pragma once
// Text that reaches a gnuplot script or its data files is the user's (sweep values, labels)
// or read back from result files, and gnuplot executes what stands in backquotes inside a
// double-quoted string, expands @macros on a command line and ends a command at a newline.
// Everything gda puts into a script goes through these two functions.
#include <string>
#include <string_view>

namespace gda {

/// `text` as a single-quoted gnuplot string literal: gnuplot substitutes nothing inside
/// single quotes (no backquote command, no macro, no backslash escape); a quote of the
/// text is doubled, as gnuplot reads it, and every control character (a newline would end
/// the command) becomes a space.
std::string gnuplot_quoted(std::string_view text);

/// `text` as a field or comment of a gnuplot data file: one line (control characters become
/// spaces) and no double quote, which would end a quoted column such as xtic()'s label.
std::string gnuplot_data_text(std::string_view text);

/// Whether `name` may be part of a plot's file name: letters, digits, '_' and '-' only
/// (measurement names are read back from stages.jsonl, which anyone may have edited).
bool plain_file_name_part(std::string_view name);

}  // namespace gda
