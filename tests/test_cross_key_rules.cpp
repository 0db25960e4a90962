// Rules over several keys (ParamRule) are checked when the config is read, so `gda validate`
// refuses such a config with the file, the line and every key of the rule, before anything
// trains. One test per rule the components declare, plus the CLI's exit code.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>

#include "core/error.h"
#include "core/params.h"
#include "pipeline/config.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

/// The UserError message of parsing `doc` as "t.toml" ("" if it was accepted).
std::string refusal(const std::string& doc) {
  const std::string message = user_error_of([&] { parse_config(doc, "t.toml"); });
  return message == "no error" ? "" : message;
}

void expect_refused(const std::string& doc, const std::vector<std::string>& expected) {
  const std::string message = refusal(doc);
  ASSERT_FALSE(message.empty()) << "accepted: " << doc;
  for (const auto& e : expected)
    EXPECT_NE(message.find(e), std::string::npos) << "message: " << message << "\nexpected: " << e;
}

TEST(CrossKeyRules, SgdNesterovNeedsMomentum) {
  expect_refused("[optimizer]\nname = \"sgd\"\nnesterov = true\n",
                 {"t.toml:3:", "optimizer.nesterov = true", "optimizer.momentum = 0"});
  EXPECT_EQ(refusal("[optimizer]\nname = \"sgd\"\nnesterov = true\nmomentum = 0.9\n"), "");
  // The same rule holds for sgd as the base of a variant.
  expect_refused("[optimizer]\nname = \"sam\"\nbase = \"sgd\"\nnesterov = true\n",
                 {"t.toml:4:", "optimizer.nesterov", "optimizer.momentum"});
}

TEST(CrossKeyRules, AusamFminAtMostFmax) {
  expect_refused("[optimizer]\nname = \"ausam\"\nfmin = 0.9\nfmax = 0.5\n",
                 {"t.toml:3:", "optimizer.fmin = 0.9", "optimizer.fmax = 0.5"});
  EXPECT_EQ(refusal("[optimizer]\nname = \"ausam\"\nfmin = 0.5\nfmax = 0.5\n"), "");
}

TEST(CrossKeyRules, GsamRhoMinAtMostRhoMax) {
  expect_refused("[optimizer]\nname = \"gsam\"\nrho_max = 0.01\nrho_min = 0.1\n",
                 {"t.toml:", "optimizer.rho_min = 0.1", "optimizer.rho_max = 0.01"});
}

TEST(CrossKeyRules, SampaBaseUpdateNeedsATorchBase) {
  // Every built-in base supports it; the rule guards plugins' bases, so it must accept these.
  for (const std::string base : {"sgd", "adam", "adamw"})
    EXPECT_EQ(refusal("[optimizer]\nname = \"sampa\"\nbase = \"" + base + "\"\ny_update = \"base\"\n"), "") << base;
}

TEST(CrossKeyRules, TramReferenceNeedsTargetInit) {
  expect_refused("[optimizer]\nname = \"tram\"\nreference = \"teacher\"\n",
                 {"t.toml:3:", "optimizer.reference = \"teacher\"", "optimizer.target = \"prev\""});
  EXPECT_EQ(refusal("[optimizer]\nname = \"tram\"\ntarget = \"init\"\nreference = \"teacher\"\n"), "");
}

TEST(CrossKeyRules, TramFisherMeasuresNoDivergence) {
  expect_refused("[optimizer]\nname = \"tram\"\ntarget = \"fisher\"\ndivergence_data = \"next\"\n",
                 {"t.toml:", "optimizer.target = \"fisher\"", "optimizer.divergence_data = \"next\""});
}

// Once found only after source training (stage 0 lost): more domains than the pool can fill.
TEST(CrossKeyRules, TheIntermediatePoolFillsEveryDomain) {
  expect_refused("[data]\nintermediate_size = 0\n[shift]\nT = 3\n",
                 {"t.toml: shift.T = 3 cuts data.intermediate_size = 0 examples into domains of 0",
                  "lower shift.T or raise data.intermediate_size"});
  expect_refused("[data]\nintermediate_size = 100\n[shift]\nT = 51\n", {"domains of 1"});
  EXPECT_EQ(refusal("[data]\nintermediate_size = 100\n[shift]\nT = 50\n"), "");
  EXPECT_EQ(refusal("[data]\nintermediate_size = 0\n[shift]\nT = 0\n"), "");
}

TEST(CrossKeyRules, EveryBrokenRuleIsReportedWithTheOtherErrors) {
  const std::string message =
      refusal("[optimizer]\nname = \"ausam\"\nfmin = 0.9\nfmax = 0.5\n[shift]\nT = -1\n");
  EXPECT_NE(message.find("optimizer.fmin"), std::string::npos) << message;
  EXPECT_NE(message.find("shift.T"), std::string::npos) << message;
}

TEST(CrossKeyRules, BrokenRulesListsEveryKeyWithItsValue) {
  ParamRules rules = {{{"a", "b"}, [](const Params& p) {
                         return p.real("a") <= p.real("b") ? std::string() : std::string("a must not exceed b");
                       }}};
  Params p;
  p.set("a", 2.0);
  p.set("b", 1.0);
  EXPECT_EQ(broken_rules(rules, p, "s"), "s.a = 2 and s.b = 1: a must not exceed b");
  p.set("b", 3.0);
  EXPECT_EQ(broken_rules(rules, p, "s"), "");
}

TEST(CrossKeyRules, ValidateExitsTwoBeforeAnythingRuns) {
  const auto dir = temp_dir("cross_key_cli");
  const std::string config = dir + "/bad.toml";
  std::ofstream(config) << "[optimizer]\nname = \"ausam\"\nfmin = 0.9\nfmax = 0.5\n";
  const std::string log = dir + "/validate.log";
  const int rc = std::system((std::string(GDA_BINARY) + " validate " + config + " > " + log + " 2>&1").c_str());
  ASSERT_TRUE(WIFEXITED(rc));
  EXPECT_EQ(WEXITSTATUS(rc), 2);
  std::ifstream in(log);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(config + ":3:"), std::string::npos) << text;
  EXPECT_NE(text.find("optimizer.fmin"), std::string::npos) << text;
  EXPECT_NE(text.find("optimizer.fmax"), std::string::npos) << text;
}

}  // namespace
}  // namespace gda::test
