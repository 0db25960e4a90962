#pragma once
// Wall-clock seconds for the timings a run reports, and the time a run started.
#include <chrono>
#include <ctime>
#include <string>

namespace gda {

using Clock = std::chrono::steady_clock;

/// Seconds from t0 to now.
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// Now in UTC as ISO 8601, to the second: "2026-12-02T02:30:00Z".
inline std::string utc_now_iso() {
  const std::time_t t = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&t, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace gda
