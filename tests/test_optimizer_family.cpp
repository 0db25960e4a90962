// Properties every registered optimizer must have, whatever its algorithm: it is
// documented, states its cost, trains a small classifier on a separable problem inside
// a stage (begin_stage included) without producing non-finite numbers, and its state
// round-trips through save/load.
#include <fstream>
#include <sstream>

#include "pipeline/config.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

std::string docs_optimizers() {
  std::ifstream in(std::string(GDA_SOURCE_DIR) + "/docs/OPTIMIZERS.md");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

ModelPtr small_classifier() {
  Params p = parse_config("[model]\nname = \"mlp\"\nhidden = 8\n", "t.toml").section("model");
  return make_model("mlp", p, InputShape{{4}, 2});
}

TEST(OptimizerFamily, EveryOptimizerIsDocumentedWithItsCost) {
  const std::string docs = docs_optimizers();
  for (const auto* e : optimizer_registry().all()) {
    EXPECT_FALSE(e->summary.empty()) << e->name;
    EXPECT_NE(e->cost.find("fwd"), std::string::npos) << e->name << ": cost must say its passes";
    EXPECT_NE(docs.find("| `" + e->name + "` |"), std::string::npos)
        << e->name << " is missing from the table of docs/OPTIMIZERS.md";
    if (!is_base_optimizer(e->name))
      EXPECT_NE(docs.find("## " + e->name + " "), std::string::npos)
          << e->name << " has no section (update rule) in docs/OPTIMIZERS.md";
  }
}

TEST(OptimizerFamily, EveryOptimizerLearnsASeparableProblemWithinAStage) {
  // Two classes told apart by the sign of the first feature; 40 steps on batches of 16.
  torch::manual_seed(0);
  auto x = torch::randn({64, 4});
  auto y = (x.select(1, 0) > 0).to(torch::kInt64);
  auto next_x = torch::randn({32, 4});
  for (const auto& name : optimizer_registry().names()) {
    torch::manual_seed(1);
    auto model = small_classifier();
    auto teacher = model->clone_model();
    const bool plain = is_base_optimizer(name);
    Params p = optimizer_params(name, plain ? name : "sgd", {{"lr", 0.1}});
    auto opt = make_optimizer(model->parameters(), p);
    opt->begin_stage({teacher.get(), x, next_x});
    double first = 0, last = 0;
    for (int step = 0; step < 120; ++step) {
      auto idx = torch::randperm(64, torch::kInt64).slice(0, 0, 16);
      StepContext ctx(*model, x.index_select(0, idx), y.index_select(0, idx));
      double loss = opt->step(ctx).item<double>();
      ASSERT_TRUE(std::isfinite(loss)) << name << " step " << step;
      (step == 0 ? first : last) = loss;
    }
    torch::NoGradGuard no_grad;
    model->eval();
    double acc = model->forward(x).argmax(1).eq(y).to(torch::kFloat64).mean().item<double>();
    EXPECT_GT(acc, 0.8) << name << " (first loss " << first << ", last " << last << ")";
  }
}

TEST(OptimizerFamily, StateSurvivesSaveAndLoad) {
  // Two copies take 3 steps; one is saved and loaded into a fresh optimizer; both take the
  // same 3 further steps (same random draws) and must agree.
  torch::manual_seed(0);
  auto x = torch::randn({16, 4});
  auto y = (x.select(1, 0) > 0).to(torch::kInt64);
  for (const auto& name : optimizer_registry().names()) {
    const bool plain = is_base_optimizer(name);
    Params p = optimizer_params(name, plain ? name : "adam", {{"lr", 0.01}});
    torch::manual_seed(2);
    auto a = small_classifier();
    auto opt_a = make_optimizer(a->parameters(), p);
    opt_a->begin_stage({a.get(), x, {}});
    for (int i = 0; i < 3; ++i) {
      StepContext ctx(*a, x, y);
      opt_a->step(ctx);
    }
    auto in = saved_archive(*opt_a);  // saved before b exists, loaded after its begin_stage

    auto b = a->clone_model();
    auto opt_b = make_optimizer(b->parameters(), p);
    opt_b->begin_stage({a.get(), x, {}});
    opt_b->load(in);
    for (int i = 0; i < 3; ++i) {
      torch::manual_seed(10 + i);
      StepContext ca(*a, x, y);
      opt_a->step(ca);
      torch::manual_seed(10 + i);
      StepContext cb(*b, x, y);
      opt_b->step(cb);
    }
    auto pa = a->parameters(), pb = b->parameters();
    for (std::size_t i = 0; i < pa.size(); ++i)
      EXPECT_TRUE(torch::allclose(pa[i], pb[i], 1e-5, 1e-6)) << name << " parameter " << i;
  }
}

TEST(OptimizerFamily, RulesNameKeysOfTheSection) {
  for (const auto& name : optimizer_registry().names())
    for (const auto& base : base_optimizer_names()) {
      ParamSpecs keys = optimizer_keys(name, base);
      keys.push_back(text("base", base, ""));
      for (const auto& rule : optimizer_rules(name, base))
        for (const auto& k : rule.keys) {
          bool known = false;
          for (const auto& spec : keys) known = known || spec.name == k;
          EXPECT_TRUE(known) << name << " over " << base << ": a rule names " << k;
        }
    }
}

TEST(OptimizerFamily, CrossKeyRulesStopTheConfigAtTheFileAndLine) {
  struct Case {
    const char* section;  // the [optimizer] section's lines after its header
    const char* where;    // where the first given key of the broken rule is
    const char* key;
  };
  const Case cases[] = {
      {"name = \"sgd\"\nnesterov = true\n", "t.toml:3:", "optimizer.nesterov"},
      {"name = \"sam\"\nbase = \"sgd\"\nnesterov = true\n", "t.toml:4:", "optimizer.nesterov"},
      {"name = \"ausam\"\nfmin = 0.6\n", "t.toml:3:", "optimizer.fmin"},
      {"name = \"gsam\"\nrho_min = 0.1\n", "t.toml:3:", "optimizer.rho_min"},
      {"name = \"tram\"\nreference = \"teacher\"\n", "t.toml:3:", "optimizer.reference"},
      {"name = \"tram\"\ntarget = \"fisher\"\ndivergence_data = \"next\"\n", "t.toml:4:",
       "optimizer.divergence_data"},
  };
  for (const auto& c : cases) {
    const std::string text = std::string("[optimizer]\n") + c.section;
    const std::string m = user_error_of([&] { parse_config(text, "t.toml"); });
    EXPECT_NE(m.find(c.where), std::string::npos) << text << "\n" << m;
    EXPECT_NE(m.find(c.key), std::string::npos) << text << "\n" << m;
  }
}

TEST(OptimizerFamily, SampaUpdatesThroughTheBaseOnlyOverSgdAdamOrAdamw) {
  // Every registered base passes; a plugin's base would not (the rule names the base).
  for (const auto& base : base_optimizer_names())
    EXPECT_EQ(broken_rules(optimizer_rules("sampa", base), optimizer_params("sampa", base), "optimizer"), "");
  Params p = optimizer_params("sampa", "adam");
  p.set("base", std::string("lion"));
  EXPECT_NE(broken_rules(optimizer_rules("sampa", "adam"), p, "optimizer").find("optimizer.y_update"),
            std::string::npos);
  p.set("y_update", std::string("sgd"));
  EXPECT_EQ(broken_rules(optimizer_rules("sampa", "adam"), p, "optimizer"), "");
}

}  // namespace
}  // namespace gda::test
