#include "pipeline/run_status.h"

namespace gda {

const char* status_name(RunStatus s) {
  switch (s) {
    case RunStatus::running: return "running";
    case RunStatus::ok: return "ok";
    case RunStatus::error: return "error";
    case RunStatus::failed: return "failed";
  }
  return "running";
}

std::optional<RunStatus> status_named(const std::string& word) {
  for (const RunStatus s : {RunStatus::running, RunStatus::ok, RunStatus::error, RunStatus::failed})
    if (word == status_name(s)) return s;
  return std::nullopt;
}

int exit_code(RunStatus s) {
  switch (s) {
    case RunStatus::ok: return 0;
    case RunStatus::error: return 2;
    case RunStatus::failed: return 3;
    case RunStatus::running: break;
  }
  return 70;  // a summary that never ended: a bug
}

}  // namespace gda
