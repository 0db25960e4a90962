// adaptation.schedule: the baselines beside gradual self-training (source only, direct
// self-training on the target, self-training on every unlabelled domain pooled), each run
// through the real pipeline on tiny data and checked on what each stage trained on.
#include <gtest/gtest.h>

#include <fstream>

#include "pipeline/config.h"
#include "pipeline/run.h"
#include "pipeline/run_record.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

/// The stages a tiny run (T = 2: 200 source, 300 intermediate, 100 target examples) recorded.
std::vector<StageRecord> stages_of(const std::string& name, const std::vector<std::string>& overrides) {
  const std::string dir = temp_dir("schedule-" + name);
  std::vector<std::string> all = {"source.epochs=2", "adaptation.epochs=1"};
  all.insert(all.end(), overrides.begin(), overrides.end());
  const RunSummary s = run_experiment(parse_config(tiny_config(2), "tiny.toml", all), {dir, nullptr});
  EXPECT_EQ(s.status, RunStatus::ok) << s.error;
  std::ifstream in(dir + "/stages.jsonl");
  std::vector<StageRecord> out;
  for (std::string line; std::getline(in, line);) out.push_back(stage_from_json_line(line));
  return out;
}

TEST(Schedule, GradualTrainsOnEachDomainOfThePathInOrder) {
  const auto stages = stages_of("gradual", {});
  ASSERT_EQ(stages.size(), 4u);
  EXPECT_EQ(stages[1].domain, "inter1");
  EXPECT_EQ(stages[1].domain_size, 150);
  EXPECT_EQ(stages[2].domain, "inter2");
  EXPECT_EQ(stages[3].domain, "target");
}

TEST(Schedule, SourceOnlyStopsAfterTheSourceModel) {
  const auto stages = stages_of("source-only", {"adaptation.schedule=source_only"});
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_EQ(stages[0].stage, 0);
  EXPECT_EQ(stages[0].domain, "source");
  // Still measured on every domain of the path, as every stage 0 is.
  EXPECT_EQ(stages[0].accuracies.size(), 4u);
}

TEST(Schedule, DirectSelfTrainsOnTheTargetRoundAfterRound) {
  const auto stages = stages_of("direct", {"adaptation.schedule=direct", "adaptation.rounds=3"});
  ASSERT_EQ(stages.size(), 4u);
  for (int k = 1; k <= 3; ++k) {
    EXPECT_EQ(stages[std::size_t(k)].stage, k);
    EXPECT_EQ(stages[std::size_t(k)].domain, "target");
    EXPECT_EQ(stages[std::size_t(k)].domain_size, 100);
    // 10 % of the least confident pseudo-labels are dropped each round.
    EXPECT_EQ(stages[std::size_t(k)].samples, 90);
  }
}

TEST(Schedule, PooledSelfTrainsOnEveryUnlabelledDomainAtOnce) {
  const auto stages = stages_of("pooled", {"adaptation.schedule=pooled", "adaptation.rounds=2"});
  ASSERT_EQ(stages.size(), 3u);
  for (std::size_t k = 1; k <= 2; ++k) {
    EXPECT_EQ(stages[k].domain, "pooled");
    EXPECT_EQ(stages[k].domain_size, 300 + 100);  // both intermediate domains and the target
  }
}

TEST(Schedule, RoundsAndNamesAreChecked) {
  EXPECT_NE(user_error_of([] { parse_config(tiny_config(2), "tiny.toml", {"adaptation.schedule=target_st"}); })
                .find("adaptation.schedule must be one of \"gradual\" \"source_only\" \"direct\" \"pooled\""),
            std::string::npos);
  EXPECT_NE(user_error_of([] { parse_config(tiny_config(2), "tiny.toml", {"adaptation.rounds=0"}); })
                .find("adaptation.rounds must be >= 1"),
            std::string::npos);
}

}  // namespace
}  // namespace gda::test
