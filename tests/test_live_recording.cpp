// Every stage reaches stages.jsonl as it ends, at any thread count: with threads = 1 (every
// sweep job's default) the run is watched from outside, and the file must grow while the
// run is still training, so that a kill loses nothing already finished.
#include <fmt/format.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "core/files.h"
#include "tests/helpers.h"

extern char** environ;

namespace gda::test {
namespace {

int lines_in(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

TEST(LiveRecording, StagesReachTheDiskWhileTheRunTrainsWithOneThread) {
  const auto dir = temp_dir("live-recording");
  // Ten stages of several epochs each: long enough to watch it between them.
  atomic_write(dir + "/c.toml", tiny_config(8));
  const std::string out = dir + "/run", log = dir + "/log.txt";
  std::vector<std::string> args = {GDA_BINARY, "run", dir + "/c.toml", "--threads", "1", "--out", out,
                                   "--set", "source.epochs=2", "--set", "adaptation.epochs=6"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  int most_while_running = 0, status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while (waitpid(pid, &status, WNOHANG) == 0 && std::chrono::steady_clock::now() < deadline) {
    most_while_running = std::max(most_while_running, lines_in(out + "/stages.jsonl"));
    if (most_while_running >= 3) {  // seen: stop the run as a scheduler would
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(most_while_running, 3) << "stages.jsonl did not grow while the run trained; " << read_text(log);
  // What was recorded before the kill is whole: every line is a stage.
  EXPECT_GE(lines_in(out + "/stages.jsonl"), 3);
  EXPECT_NE(read_text(out + "/stages.jsonl").find("\"stage\":2"), std::string::npos);
}

}  // namespace
}  // namespace gda::test
