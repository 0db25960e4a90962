#pragma once
// How a run ended (summary.json's "status"), what the CLI exits with for it, and the word
// back from a summary: one place for all three.
#include <optional>
#include <string>

namespace gda {

enum class RunStatus {
  running,  ///< not ended (what a summary says until finish)
  ok,
  error,    ///< a mistake in the input that showed only mid-run: exit 2; a sweep retries the job
  failed,   ///< a numerical failure (a NaN loss): exit 3; a finished result in a sweep
};
/// "running", "ok", "error" or "failed": summary.json's and the log's word.
const char* status_name(RunStatus s);
/// The status a summary's word names; none for a word that names none (a damaged summary).
std::optional<RunStatus> status_named(const std::string& word);
/// 0 for ok, 2 for error, 3 for failed (docs: README's exit codes).
int exit_code(RunStatus s);

}  // namespace gda
