#pragma once
// Wall-clock seconds for the timings a run reports.
#include <chrono>

namespace gda {

using Clock = std::chrono::steady_clock;

/// Seconds from t0 to now.
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace gda
