// GOAT's ot_path generator: the pushforward on a hand-made plan, the feature plan's masses
// and cut-off, the head view that trains in feature space, and whole runs through the real
// pipeline whose generated domains' count, positions, sizes and weights are checked.
#include <fmt/format.h>

#include <fstream>

#include "pipeline/config.h"
#include "pipeline/error.h"
#include "pipeline/run.h"
#include "pipeline/run_record.h"
#include "stages/models/head_view.h"
#include "stages/shift/generator.h"
#include "stages/shift/ot_path.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

TEST(OtPath, PushforwardMixesEachPlanEntryWithItsMass) {
  const auto zs = torch::tensor({{0.0f, 0.0f}, {2.0f, 0.0f}});
  const auto zt = torch::tensor({{0.0f, 4.0f}, {2.0f, 4.0f}, {4.0f, 4.0f}});
  const auto ys = torch::tensor({7, 8}, torch::kInt64);
  TransportPlan plan;
  plan.entries = {{0, 0, 0.3}, {0, 1, 0.2}, {1, 2, 0.5}};
  const Domain d = pushforward(zs, ys, zt, plan, 0.25);
  // 0.75·zs[i] + 0.25·zt[j]: (0,0)+(0,1) = (0, 1); (0,0)+(0.5,1) = (0.5, 1); (1.5,0)+(1,1) = (2.5, 1).
  EXPECT_TRUE(torch::allclose(d.x, torch::tensor({{0.0f, 1.0f}, {0.5f, 1.0f}, {2.5f, 1.0f}})));
  EXPECT_TRUE(torch::allclose(d.weight, torch::tensor({0.3f, 0.2f, 0.5f})));
  EXPECT_TRUE(torch::equal(d.y, torch::tensor({7, 7, 8}, torch::kInt64)));  // the source point's label
  EXPECT_TRUE(torch::allclose(pushforward(zs, ys, zt, plan, 0.0).x, zs.index_select(0, torch::tensor({0, 0, 1}))));
  EXPECT_TRUE(torch::allclose(pushforward(zs, ys, zt, plan, 1.0).x, zt.index_select(0, torch::tensor({0, 1, 2}))));
}

TEST(OtPath, FeaturePlanHasUniformMarginalsAndCutsSmallEntries) {
  torch::manual_seed(3);
  const auto zs = torch::randn({6, 4}), zt = torch::randn({4, 4}) + 1.0;
  for (const std::string solver : {"emd", "sinkhorn"}) {
    TransportSettings s;
    s.solver = solver;
    const TransportPlan plan = feature_plan(zs, zt, s);
    std::vector<double> rows(6, 0.0), cols(4, 0.0);
    for (const auto& e : plan.entries) rows[std::size_t(e.i)] += e.mass, cols[std::size_t(e.j)] += e.mass;
    for (double r : rows) EXPECT_NEAR(r, 1.0 / 6, 1e-6) << solver;
    for (double c : cols) EXPECT_NEAR(c, 1.0 / 4, 1e-6) << solver;
    if (solver == "emd") EXPECT_LE(plan.entries.size(), 6u + 4u - 1u);
  }
  // Sinkhorn's plan is dense; a cut-off of 1 keeps only entries above the uniform 1/(n·m).
  TransportSettings s;
  s.solver = "sinkhorn";
  s.entry_cutoff = 1.0;
  for (const auto& e : feature_plan(zs, zt, s).entries) EXPECT_GE(e.mass, 1.0 / 24);
  EXPECT_THROW(feature_plan(torch::zeros({0, 4}), zt, TransportSettings{}), UserError);
}

TEST(OtPath, HeadViewTrainsOnlyTheHeadAndSharesIt) {
  const Params p = parse_config("[model]\nname = \"mlp\"\nhidden = 5\n", "t.toml").section("model");
  auto full = make_model("mlp", p, {{3}, 2});
  auto view = head_view(full);
  // The mlp's head is its `out` layer: the view has exactly its parameters, by the same names.
  std::vector<std::string> names;
  for (const auto& item : view->named_parameters()) names.push_back(item.key());
  EXPECT_EQ(names, (std::vector<std::string>{"out.weight", "out.bias"}));
  const auto f = torch::randn({4, 5});
  EXPECT_TRUE(torch::equal(view->forward(f), full->head(f)));
  // A clone of the view trains independently; with_head puts its head on the full model.
  auto student = view->clone_model();
  {
    torch::NoGradGuard no_grad;
    for (auto& w : student->parameters()) w.add_(1.0);
  }
  auto merged = with_head(*full, *student);
  const auto x = torch::randn({4, 3});
  EXPECT_TRUE(torch::equal(merged->encode(x), full->encode(x)));
  EXPECT_TRUE(torch::equal(merged->head(f), student->head(f)));
  EXPECT_FALSE(torch::equal(merged->head(f), full->head(f)));
}

std::string gaussian_config(int T, int generated, const std::string& solver) {
  return fmt::format(R"(seed = 0
threads = 1
[data]
name = "gaussian"
size = 1000
source_size = 200
intermediate_size = 600
target_size = 150
[shift]
generator = "ot_path"
endpoints = "rotation"
T = {}
generated = {}
solver = "{}"
entry_cutoff = 1.0
intermediate_start = 10.0
intermediate_end = 60.0
target_min = 55.0
target_max = 60.0
[model]
name = "mlp"
[source]
epochs = 5
batch_size = 64
[adaptation]
epochs = 2
batch_size = 64
[evaluation]
domains = "all"
)", T, generated, solver);
}

std::vector<StageRecord> stages_of(const std::string& dir) {
  std::vector<StageRecord> v;
  std::ifstream in(dir + "/stages.jsonl");
  for (std::string line; std::getline(in, line);) v.push_back(stage_from_json_line(line));
  return v;
}

TEST(OtPath, BetweenSourceAndTargetMakesMDomainsAtIOverMPlusOne) {
  auto dir = temp_dir("otpath");
  const auto s = run_experiment(parse_config(gaussian_config(0, 3, "emd"), "ot.toml"), {dir, nullptr});
  ASSERT_EQ(s.status, "ok") << s.error;
  const auto st = stages_of(dir);
  // source, ot1..ot3 at 1/4, 2/4, 3/4, then the target's features.
  ASSERT_EQ(st.size(), 5u);
  EXPECT_EQ(st[0].domain, "source");
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(st[std::size_t(i)].domain, "ot" + std::to_string(i));
    EXPECT_DOUBLE_EQ(st[std::size_t(i)].position, i / 4.0);
    // An exact plan between 200 and 150 points has between 200 and 349 entries; its mass is 1.
    EXPECT_GE(st[std::size_t(i)].domain_size, 200);
    EXPECT_LE(st[std::size_t(i)].domain_size, 349);
    EXPECT_EQ(st[std::size_t(i)].domain_size, st[1].domain_size);  // one plan for the segment
    ASSERT_TRUE(st[std::size_t(i)].mass);
    EXPECT_NEAR(*st[std::size_t(i)].mass, 1.0, 1e-5);
  }
  EXPECT_EQ(st[4].domain, "target");
  EXPECT_DOUBLE_EQ(st[4].position, 1.0);
  EXPECT_EQ(st[4].domain_size, 150);
  EXPECT_FALSE(st[4].mass);
  // Every stage is evaluated on the given domains, in input space, by the whole model.
  ASSERT_TRUE(st[4].accuracy_of("target"));
  EXPECT_GT(*s.final_target_accuracy, 0.5);
}

TEST(OtPath, WithGivenIntermediatesEachGapGetsItsOwnDomains) {
  auto dir = temp_dir("otpath-given");
  const auto s = run_experiment(parse_config(gaussian_config(1, 2, "sinkhorn"), "ot.toml"), {dir, nullptr});
  ASSERT_EQ(s.status, "ok") << s.error;
  const auto st = stages_of(dir);
  // source | ot1 ot2 inter1 | ot1 ot2 target, the given intermediate at 1/2.
  const std::vector<std::string> names{"source", "ot1", "ot2", "inter1", "ot1", "ot2", "target"};
  const std::vector<double> positions{0.0, 1.0 / 6, 2.0 / 6, 0.5, 0.5 + 1.0 / 6, 0.5 + 2.0 / 6, 1.0};
  ASSERT_EQ(st.size(), names.size());
  for (std::size_t k = 0; k < st.size(); ++k) {
    EXPECT_EQ(st[k].stage, int(k));
    EXPECT_EQ(st[k].domain, names[k]);
    EXPECT_NEAR(st[k].position, positions[k], 1e-12);
    // Generated domains keep entries ≥ 1/(n·m) of a plan of mass 1: at most all of it.
    if (names[k].rfind("ot", 0) == 0) {
      ASSERT_TRUE(st[k].mass);
      EXPECT_GT(*st[k].mass, 0.5);
      EXPECT_LE(*st[k].mass, 1.0 + 1e-6);
    }
  }
}

TEST(OtPath, RefusesAnEndpointThatComposesItself) {
  const Params shift =
      parse_config("[shift]\ngenerator = \"ot_path\"\nendpoints = \"interpolation\"\n", "t.toml").section("shift");
  EXPECT_THROW(generator_registry().get("ot_path").make(shift), UserError);
}

}  // namespace
}  // namespace gda::test
