#pragma once
// Child processes without a shell: arguments go to the program as they are, so paths with
// spaces, quotes or semicolons are just paths.
#include <string>
#include <vector>

namespace gda {

/// Runs argv[0] (found on PATH when it has no '/') with the arguments argv[1…], in `cwd`
/// ("" = this process's directory), its stdout and stderr into the file `output` (created
/// or truncated; "" = /dev/null). Waits for it; returns its exit status, 128 + the signal
/// that ended it, or 127 when it could not be started. `env`: "NAME=value" entries set for
/// the child on top of this process's environment (e.g. CUDA_VISIBLE_DEVICES for a sweep's job).
int run_process(const std::vector<std::string>& argv, const std::string& cwd = "", const std::string& output = "",
                const std::vector<std::string>& env = {});

/// The environment entry a parent sets (its pid) so that its child can end with it.
constexpr const char* kParentPidVariable = "GDA_PARENT_PID";

/// When this process was started by a gda process that set kParentPidVariable: asks the
/// kernel to send it SIGTERM when that parent ends (also by SIGKILL), so a killed sweep
/// leaves no job running behind it; ends at once when the parent has already gone.
void end_with_parent();

/// Whether `program` is an executable file in a folder of PATH.
bool on_path(const std::string& program);

}  // namespace gda
