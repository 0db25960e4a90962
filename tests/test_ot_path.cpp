// GOAT's ot_path generator: the pushforward on a hand-made plan, the feature plan's masses
// and cut-off, the head view that trains in feature space, and whole runs through the real
// pipeline whose generated domains' count, positions, sizes and weights are checked.
#include <fmt/format.h>

#include <fstream>

#include "pipeline/config.h"
#include "core/error.h"
#include "pipeline/run.h"
#include "pipeline/run_record.h"
#include "stages/eval/evaluator.h"
#include "stages/models/head_view.h"
#include "stages/train/self_training.h"
#include "stages/shift/generator.h"
#include "stages/shift/ot_path.h"
#include "tests/gaussian_run.h"
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
  const auto zs = torch::randn({6, 4}), zt = (torch::randn({4, 4}) + 1.0).contiguous();
  for (const Solver solver : {Solver::emd, Solver::sinkhorn}) {
    TransportSettings s;
    s.solver = solver;
    const TransportPlan plan = feature_plan(zs, zt, s);
    std::vector<double> rows(6, 0.0), cols(4, 0.0);
    for (const auto& e : plan.entries) rows[std::size_t(e.i)] += e.mass, cols[std::size_t(e.j)] += e.mass;
    for (double r : rows) EXPECT_NEAR(r, 1.0 / 6, 1e-6) << solver_choice().name(solver);
    for (double c : cols) EXPECT_NEAR(c, 1.0 / 4, 1e-6) << solver_choice().name(solver);
    if (solver == Solver::emd) {
      EXPECT_LE(plan.entries.size(), 6u + 4u - 1u);
      // The BLAS form of the cost gives the plan of the exact pairwise sums.
      const auto exact = exact_emd_uniform(6, 4, squared_euclidean_cost(zs.data_ptr<float>(), 6, zt.data_ptr<float>(), 4, 4));
      EXPECT_NEAR(plan.cost, exact.cost, 1e-9 * exact.cost);
    }
  }
  // Sinkhorn's plan is dense; a cut-off of 1 keeps only entries above the uniform 1/(n·m).
  TransportSettings s;
  s.solver = Solver::sinkhorn;
  s.entry_cutoff = 1.0;
  const TransportPlan cut = feature_plan(zs, zt, s);
  ASSERT_FALSE(cut.entries.empty());
  double kept = 0;
  for (const auto& e : cut.entries) {
    EXPECT_GE(e.mass, 1.0 / 24);
    kept += e.mass;
  }
  EXPECT_GT(kept, 0.5);  // the cut drops the small tail, not the plan
  EXPECT_LE(kept, 1.0 + 1e-9);
  EXPECT_THROW(feature_plan(torch::zeros({0, 4}), zt, TransportSettings{}), UserError);
  s.entry_cutoff = 0;  // a dense Sinkhorn plan of more than 50·(n + m) samples is refused before it is made
  EXPECT_THROW(feature_plan(torch::randn({200, 4}), torch::randn({200, 4}), s), UserError);
}

TEST(OtPath, HeadViewTrainsOnlyTheHeadAndSharesIt) {
  const Params p = parse_config("[model]\nname = \"mlp\"\nhidden = 5\n", "t.toml").section("model");
  auto full = make_model("mlp", p, {{3}, 2});
  auto view = head_view(full);
  // The mlp's head is its `out` layer: the view has exactly its parameters, by the same names.
  std::vector<std::string> names;
  for (const auto& item : view->named_parameters()) names.push_back(item.key());
  EXPECT_EQ(names, (std::vector<std::string>{"out.weight", "out.bias"}));
  // Shared, not copied: the view's tensors are the full model's.
  EXPECT_EQ(view->named_parameters()["out.weight"].data_ptr(), full->named_parameters()["out.weight"].data_ptr());
  const auto f = torch::randn({4, 5});
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

Params cnn_params(const std::string& features) {
  return parse_config("[model]\nname = \"cnn\"\nchannels = 2\nhidden = 6\nfeatures = \"" + features + "\"\n",
                      "t.toml").section("model");
}

TEST(OtPath, CnnSplitsAfterFc1OrAfterTheConvolutionsWithTheSameLogits) {
  torch::manual_seed(1);
  auto a = make_model("cnn", cnn_params("fc1"), {{1, 5, 5}, 3});
  auto b = make_model("cnn", cnn_params("conv"), {{1, 5, 5}, 3});
  b->copy_state_from(*a);
  a->eval(), b->eval();
  const auto x = torch::randn({4, 1, 5, 5});
  EXPECT_EQ(a->encode(x).sizes(), (std::vector<std::int64_t>{4, 6}));
  EXPECT_EQ(b->encode(x).sizes(), (std::vector<std::int64_t>{4, 2 * 5 * 5}));  // GOAT's split: C·H·W
  EXPECT_TRUE(torch::allclose(a->forward(x), b->forward(x)));
  // The conv split's head trains fc1 too, and carries BatchNorm's buffers.
  auto view = head_view(b);
  std::vector<std::string> names;
  for (const auto& item : view->named_parameters()) names.push_back(item.key());
  EXPECT_EQ(names, (std::vector<std::string>{"fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "bn.weight",
                                             "bn.bias", "out.weight", "out.bias"}));
  auto student = view->clone_model();
  {
    torch::NoGradGuard no_grad;
    student->named_buffers()["bn.running_mean"].fill_(0.25);
  }
  auto merged = with_head(*b, *student);
  EXPECT_TRUE(torch::equal(merged->named_buffers()["bn.running_mean"], torch::full({6}, 0.25)));
  EXPECT_TRUE(torch::equal(merged->named_parameters()["conv1.weight"], b->named_parameters()["conv1.weight"]));
}

std::unique_ptr<ShiftGenerator> ot_path_generator(const std::string& extra) {
  return generator_registry().get("ot_path").make(
      parse_config("[shift]\ngenerator = \"ot_path\"\n" + extra, "t.toml").section("shift"));
}

TEST(OtPath, SegmentIsTheGeneratedDomainsThenTheNextGivenOne) {
  torch::manual_seed(2);
  const Params p = parse_config("[model]\nname = \"mlp\"\nhidden = 4\n", "t.toml").section("model");
  auto model = make_model("mlp", p, {{3}, 2});
  const Domain from{"inter1", 0.2, torch::randn({7, 3}), torch::randint(2, {7}, torch::kInt64), {}};
  const Domain to{"inter2", 0.6, torch::randn({5, 3}) + 2.0, torch::randint(2, {5}, torch::kInt64), {}};
  const auto segment = ot_path_generator("generated = 2\n")->segment(*model, from, to, 3, 0);
  ASSERT_TRUE(segment);
  EXPECT_TRUE(segment->features);
  ASSERT_EQ(segment->domains.size(), 3u);
  const auto zs = encode_all(*model, from.x, 100), zt = encode_all(*model, to.x, 100);
  const TransportPlan plan = feature_plan(zs, zt, TransportSettings{});
  for (int i = 1; i <= 2; ++i) {
    const Domain& d = segment->domains[std::size_t(i - 1)];
    EXPECT_EQ(d.name, "ot" + std::to_string(i));
    EXPECT_NEAR(d.position, 0.2 + 0.4 * i / 3.0, 1e-12);  // t = i/3 of the way from 0.2 to 0.6
    const Domain expected = pushforward(zs, from.y, zt, plan, i / 3.0);
    EXPECT_TRUE(torch::allclose(d.x, expected.x));
    EXPECT_TRUE(torch::equal(d.weight, expected.weight));
    EXPECT_NEAR(d.weight.sum().item<double>(), 1.0, 1e-6);
  }
  const Domain& last = segment->domains.back();
  EXPECT_EQ(last.name, "inter2");
  EXPECT_EQ(last.position, 0.6);
  // The segment encoded `to` in batches of 3, zt in one batch: LibTorch 2.x's MKL products
  // differ in the last bits between the two (up to 5e-7 seen), 1.13's OpenBLAS ones do not.
  EXPECT_TRUE(torch::allclose(last.x, zt, /*rtol=*/1e-5, /*atol=*/1e-6));
  EXPECT_FALSE(last.weight.defined());
  // Input-space generators make no segments: the loop trains on the given domain.
  const Params rotation = parse_config("[shift]\ngenerator = \"rotation\"\n", "t.toml").section("shift");
  EXPECT_FALSE(generator_registry().get("rotation").make(rotation)->segment(*model, from, to, 3, 0));
}

TEST(OtPath, TrainingASegmentMovesOnlyTheHeadAndLeavesTheSourceAlone) {
  torch::manual_seed(4);
  const Params p = parse_config("[model]\nname = \"mlp\"\nhidden = 4\n", "t.toml").section("model");
  auto source = make_model("mlp", p, {{3}, 2});
  const auto before = source->clone_model();
  const Domain from{"source", 0.0, torch::randn({40, 3}), torch::randint(2, {40}, torch::kInt64), {}};
  const Domain to{"target", 1.0, torch::randn({30, 3}) + 1.0, torch::randint(2, {30}, torch::kInt64), {}};
  const auto segment = ot_path_generator("generated = 2\n")->segment(*source, from, to, 16, 0);
  ASSERT_TRUE(segment);
  StageSettings settings;
  settings.epochs = 3;
  settings.batch_size = 8;
  settings.optimizer = optimizer_params("adam", "adam", {{"lr", 0.05}});
  Rng rng(1);
  int stages = 0;
  auto adapted = self_train_segment(*segment, source, source, settings, rng,
                                    [&](const ModelPtr&, StageRecord r) {
                                      ++stages;
                                      EXPECT_GT(r.samples, 0);
                                    });
  EXPECT_EQ(stages, 3);
  auto params = [](const ModelPtr& m) { return m->named_parameters(); };
  // The encoder (fc) is the source's; the head (out) has trained; the source is unchanged.
  EXPECT_TRUE(torch::equal(params(adapted)["fc.weight"], params(before)["fc.weight"]));
  EXPECT_FALSE(torch::equal(params(adapted)["out.weight"], params(before)["out.weight"]));
  for (const auto& item : source->named_parameters())
    EXPECT_TRUE(torch::equal(item.value(), params(before)[item.key()])) << item.key();
}

std::string gaussian_config(int T, int generated, const std::string& solver) {
  GaussianRun run;
  run.shift = fmt::format(R"(generator = "ot_path"
endpoints = "rotation"
T = {}
generated = {}
solver = "{}"
entry_cutoff = 1.0
intermediate_start = 10.0
intermediate_end = 60.0
target_min = 55.0
target_max = 60.0)", T, generated, solver);
  run.extra = "[evaluation]\ndomains = \"all\"";
  return gaussian_run_config(run);
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
  ASSERT_EQ(s.status, RunStatus::ok) << s.error;
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
  ASSERT_EQ(s.status, RunStatus::ok) << s.error;
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
