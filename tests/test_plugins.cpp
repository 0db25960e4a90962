// Out-of-tree plugins: the example plugin (examples/plugins/gaussian_blur) is configured
// with find_package(gda) against this build tree, built, loaded from a config and run
// through the real pipeline; broken plugins fail with one clear message.
#include <fmt/format.h>
#include <sys/wait.h>

#include <filesystem>

#include "pipeline/config.h"
#include "core/error.h"
#include "core/files.h"
#include "pipeline/run.h"
#include "stages/shift/generator.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

namespace fs = std::filesystem;

/// Configures and builds the CMake project in `source` into `build`; returns the log on failure.
std::string build_plugin(const std::string& source, const std::string& build) {
  const std::string log = build + ".log";
  const std::string cmd = fmt::format(
      "cmake -S {} -B {} -DCMAKE_BUILD_TYPE=Release -Dgda_DIR={} > {} 2>&1 && cmake --build {} >> {} 2>&1", source,
      build, GDA_BUILD_DIR, log, build, log);
  return WEXITSTATUS(std::system(cmd.c_str())) == 0 ? "" : read_text(log);
}

std::string message_of(const std::string& config_text, const std::string& name) {
  return user_error_of([&] { parse_config(config_text, name); });
}

TEST(Plugins, TheExamplePluginBuildsLoadsAndMakesItsDomains) {
  auto dir = temp_dir("plugin");
  const std::string failure = build_plugin(std::string(GDA_SOURCE_DIR) + "/examples/plugins/gaussian_blur", dir + "/blur");
  ASSERT_EQ(failure, "") << failure;
  const std::string lib = dir + "/blur/libgda_gaussian_blur.so";
  ASSERT_TRUE(fs::exists(lib));
  // A config names the library (relative to the config file) and then its generator.
  const std::string config = "plugins = [\"blur/libgda_gaussian_blur.so\"]\n" + tiny_config(2) +
                             "\n[shift]\ngenerator = \"gaussian_blur\"\ntarget_sigma = 1.5\n";
  // tiny_config has its own [shift]: drop it, keep everything else.
  std::string text = config;
  const auto at = text.find("[shift]\ngenerator = \"rotation\"");
  ASSERT_NE(at, std::string::npos);
  text.erase(at, text.find("[model]") - at);
  atomic_write(dir + "/blur.toml", text);
  const Config c = load_config(dir + "/blur.toml");
  EXPECT_EQ(c.plugins, std::vector<std::string>{lib});
  ASSERT_NE(generator_registry().find("gaussian_blur"), nullptr);

  // Its domains: the source untouched, the target blurred (smoother: lower pixel variance).
  auto gen = generator_registry().get("gaussian_blur").make(c.section("shift"));
  auto images = torch::rand({20, 1, 10, 10});
  auto labels = torch::zeros({20}, torch::kInt64);
  DataSplit split{{images.slice(0, 0, 5), labels.slice(0, 0, 5)},
                  {images.slice(0, 5, 15), labels.slice(0, 5, 15)},
                  {images.slice(0, 15, 20), labels.slice(0, 15, 20)}};
  auto jobs = gen->plan(split, 2, 0);
  ASSERT_EQ(jobs.size(), 4u);
  EXPECT_TRUE(torch::equal(jobs[0].make().x, split.source.x));
  const double before = split.target.x.var().item<double>(), after = jobs[3].make().x.var().item<double>();
  EXPECT_LT(after, 0.5 * before);
  EXPECT_NEAR(jobs[3].make().x.mean().item<double>(), split.target.x.mean().item<double>(), 0.05);

  // The whole pipeline from the config, and the resolved config keeps the plugin.
  const auto s = run_experiment(c, {dir + "/run", nullptr});
  EXPECT_EQ(s.status, RunStatus::ok);
  EXPECT_NE(read_text(dir + "/run/config.resolved.toml").find("libgda_gaussian_blur.so"), std::string::npos);
  // Loading it again (another config naming it) is a no-op, not a duplicate.
  EXPECT_NO_THROW(load_config(dir + "/blur.toml"));
}

TEST(Plugins, BrokenPluginsFailWithOneClearMessage) {
  auto m = message_of("plugins = [\"no/such/libplugin.so\"]\n", "/tmp/cfg.toml");
  EXPECT_NE(m.find("cfg.toml:1:11: plugin /tmp/no/such/libplugin.so: no such file"), std::string::npos) << m;
  m = message_of("plugins = \"libx.so\"\n", "cfg.toml");
  EXPECT_NE(m.find("plugins must be an array of paths"), std::string::npos) << m;
  const std::string not_a_plugin = "/usr/lib/x86_64-linux-gnu/libz.so.1";
  if (fs::exists(not_a_plugin)) {
    m = message_of("plugins = [\"" + not_a_plugin + "\"]\n", "cfg.toml");
    EXPECT_NE(m.find("not a gda plugin"), std::string::npos) << m;
  }
  // A plugin that registers a name already taken.
  auto dir = temp_dir("plugin-dup");
  const std::string failure = build_plugin(std::string(GDA_SOURCE_DIR) + "/tests/plugin_fixtures/duplicate", dir + "/dup");
  ASSERT_EQ(failure, "") << failure;
  m = message_of("plugins = [\"" + dir + "/dup/libgda_duplicate.so\"]\n", "cfg.toml");
  EXPECT_NE(m.find("a shift generator named 'rotation' is already registered"), std::string::npos) << m;
}

}  // namespace
}  // namespace gda::test
