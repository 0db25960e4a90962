#include "core/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/error.h"
#include "core/stopwatch.h"

namespace gda {

void atomic_write(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f)
      throw UserError(fmt::format("cannot write {}: {}; check that the output directory exists and is writable", tmp,
                                  std::strerror(errno)));
    bool ok = std::fwrite(content.data(), 1, content.size(), f) == content.size();
    ok = std::fflush(f) == 0 && ok;
    ok = ::fsync(::fileno(f)) == 0 && ok;
    ok = std::fclose(f) == 0 && ok;
    if (!ok) {
      std::remove(tmp.c_str());  // no half-written leftover beside the file
      throw UserError("cannot write " + path + " (disk full?)");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) std::remove(tmp.c_str());
  if (ec) throw UserError(fmt::format("cannot write {}: {}; check that its folder exists and is writable", path, ec.message()));
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string read_input_file(const std::string& path, std::uintmax_t max_bytes, const std::string& role) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (!fs::exists(status)) throw UserError(fmt::format("{} {} does not exist; check the path", role, path));
  if (fs::is_directory(status)) throw UserError(fmt::format("{} {} is a directory; give the path of a file", role, path));
  if (!fs::is_regular_file(status))
    throw UserError(fmt::format("{} {} is not a regular file (a pipe or a device?); give the path of a file", role, path));
  const std::uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > max_bytes)
    throw UserError(fmt::format("{} {} has {} bytes, more than the {} such a file may have; is it the right file?",
                                role, path, size, max_bytes));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(fmt::format("cannot read {} {}: {}; check its permissions", role, path, std::strerror(errno)));
  std::string text(std::size_t(ec ? 0 : size), '\0');
  in.read(text.data(), std::streamsize(text.size()));
  if (!in && !text.empty()) throw UserError(fmt::format("cannot read {} {} (it shrank while read?)", role, path));
  return text;
}

FileLock::FileLock(const std::string& path, double wait_seconds, const std::string& what, const std::string& advice) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
  if (fd_ < 0) throw UserError(fmt::format("cannot open the lock file {}: {}", path, std::strerror(errno)));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
  while (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      const std::string why = std::strerror(errno);
      ::close(fd_);
      throw UserError(fmt::format("cannot lock {}: {}", path, why));
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      std::string holder = read_text(path);
      holder = holder.substr(0, holder.find('\n'));
      ::close(fd_);
      throw UserError(fmt::format("{} is in use by another process{}; {}", what,
                                  holder.empty() ? "" : " (" + holder + ")", advice));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // Who holds it, for the message of whoever comes next.
  const std::string holder = fmt::format("pid {}, since {}\n", ::getpid(), utc_now_iso());
  if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, holder.data(), holder.size(), 0) < 0) {
    // Only the message of a later process loses its detail.
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing our descriptor; inherited copies keep the lock until they close
}

}  // namespace gda
