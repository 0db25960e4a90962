#include "tests/helpers.h"

#include <fmt/format.h>
#include <unistd.h>

#include "pipeline/config.h"
#include "core/error.h"

namespace gda::test {

Params optimizer_params(const std::string& name, const std::string& base,
                        std::vector<std::pair<std::string, Value>> overrides) {
  std::string text = fmt::format("[optimizer]\nname = \"{}\"\nbase = \"{}\"\n", name, base);
  Params p = parse_config(text, "test.toml").section("optimizer");
  for (auto& [k, v] : overrides) p.set(k, v);
  return p;
}

std::string user_error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.what();
  }
  return "no error";
}

std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / fmt::format("gda-test-{}-{}", name, ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string tiny_config(int T, const std::string& extra) {
  return fmt::format(R"(seed = 0
threads = 2
[data]
name = "synthetic"
size = 600
classes = 3
side = 10
source_size = 200
intermediate_size = 300
target_size = 100
[shift]
generator = "rotation"
T = {}
intermediate_start = 5.0
intermediate_end = 40.0
target_min = 35.0
target_max = 40.0
[model]
name = "cnn"
channels = 4
hidden = 32
dropout = 0.1
[source]
epochs = 10
batch_size = 32
[adaptation]
epochs = 2
batch_size = 32
[optimizer]
name = "adam"
{}
)", T, extra);
}

}  // namespace gda::test
