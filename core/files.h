#pragma once
#include <cstdint>
#include <string>

namespace gda {

/// Writes `content` to `path` so that a reader sees the old file or the new one, never a
/// half-written one: write a temporary file beside it, flush, then rename over.
void atomic_write(const std::string& path, const std::string& content);

/// The whole file, or "" if it does not exist.
std::string read_text(const std::string& path);

/// The most a config or sweep file may have (its values are checked anyway; this keeps a
/// wrong file, a log or a dataset, from being parsed as one).
constexpr std::uintmax_t kMaxInputFileBytes = 16u << 20;

/// The whole of an input file the user named (`role`: "config file", "sweep file", …). Throws
/// UserError naming the path when it is missing, not a regular file (a folder, a FIFO that
/// would block, /dev/zero that never ends) or over `max_bytes` (said with the size).
std::string read_input_file(const std::string& path, std::uintmax_t max_bytes, const std::string& role);

/// An exclusive advisory lock (flock) on a file, created if missing, held while the object
/// lives; the kernel drops it when the holder dies, so a killed holder never leaves a stale
/// lock. Child processes started while it is held inherit it: a folder stays locked until
/// the holder's children have ended too.
class FileLock {
 public:
  /// Tries for up to `wait_seconds` (a holder that was just killed may still be ending);
  /// throws UserError naming the holder (the pid and start time it wrote) and `advice`.
  FileLock(const std::string& path, double wait_seconds, const std::string& what, const std::string& advice);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace gda
