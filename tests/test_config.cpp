#include "pipeline/config.h"
#include "core/error.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

/// Parsing `doc` as "t.toml" must fail with a message containing `expected`.
void config_should_fail(const std::string& doc, const std::string& expected,
                        const std::vector<std::string>& overrides = {}) {
  try {
    parse_config(doc, "t.toml", overrides);
    ADD_FAILURE() << "accepted: " << doc;
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos)
        << "message: " << e.what() << "\nexpected: " << expected;
  }
}

TEST(Config, DefaultsDescribeTheReferenceExperiment) {
  Config c = parse_config("", "t.toml");
  EXPECT_EQ(c.section("data").text("name"), "mnist");
  EXPECT_EQ(c.section("data").integer("source_size"), 2000);
  EXPECT_EQ(c.section("shift").integer("T"), 10);
  EXPECT_DOUBLE_EQ(c.section("shift").real("target_max"), 60.0);
  EXPECT_EQ(c.section("source").integer("epochs"), 10);
  EXPECT_EQ(c.section("adaptation").integer("epochs"), 5);
  EXPECT_DOUBLE_EQ(c.section("adaptation").real("drop_fraction"), 0.1);
  EXPECT_EQ(c.section("optimizer").text("name"), "adam");
  EXPECT_DOUBLE_EQ(c.section("optimizer").real("lr"), 1e-3);
  EXPECT_DOUBLE_EQ(c.section("optimizer").real("weight_decay"), 1e-4);
  EXPECT_EQ(c.section("evaluation").text("domains"), "all");
}

TEST(Config, ErrorsNameFileLineAndKey) {
  config_should_fail("[optimizer]\nname = \"sam\"\nrho = -0.1\n", "t.toml:3:7: optimizer.rho must be > 0 (got -0.1)");
  config_should_fail("[optimizer]\nlr = \"fast\"\n", "t.toml:2:6: optimizer.lr must be a float (got string");
  config_should_fail("[shift]\nT = 1.5\n", "t.toml:2:5: shift.T must be an integer");
  config_should_fail("[adaptation]\ndrop_fraction = 1.0\n", "adaptation.drop_fraction must be >= 0 and < 1");
  config_should_fail("[evaluation]\ndomains = \"some\"\n", "evaluation.domains must be one of \"all\" \"target\"");
  config_should_fail("seed = -1\n", "t.toml:1:8: seed must be >= 0");
  // TOML's nan and inf are numbers no key means anything by.
  config_should_fail("[shift]\nintermediate_start = nan\n", "shift.intermediate_start must be a finite number (got nan)");
  config_should_fail("[optimizer]\nlr = inf\n", "t.toml:2:6: optimizer.lr must be a finite number (got inf)");
  // Beyond a 32-bit float, LibTorch would refuse the scalar mid-run (an internal error before).
  config_should_fail("[optimizer]\nlr = 1e308\n", "t.toml:2:6: optimizer.lr must fit a 32-bit float");
  config_should_fail("[optimizer]\nweight_decay = -1e39\n", "optimizer.weight_decay must");
}

TEST(Config, KeysNestedThousandsDeepAreRefusedBeforeParsing) {
  // Once a segmentation fault in the parser's recursion.
  std::string dotted = "a", header = "[a";
  for (int i = 0; i < 50000; ++i) dotted += ".b", header += ".b";
  config_should_fail(dotted + " = 1\n", "t.toml:1: a key nested more than 32 deep");
  config_should_fail("seed = 1\n" + header + "]\n", "t.toml:2: a key nested more than 32 deep");
  config_should_fail("x = { " + dotted + " = 1 }\n", "t.toml:1: a key nested more than 32 deep");
  // Dots in values, strings and comments are not keys.
  std::string floats = "x = [\n", words = "\"";
  for (int i = 0; i < 100; ++i) floats += "1.5, ", words += "a.";
  EXPECT_NO_THROW(parse_config("[output]\ndir = " + words + "\" # " + words + "\n", "t.toml"));
  config_should_fail("seed = 1\n" + floats + "]\n", "unknown key x");
  // Arrays and inline tables nested deep are toml++'s own syntax error, not a crash.
  config_should_fail("x = " + std::string(50000, '[') + "\n", "t.toml:1:");
}

TEST(Config, UnknownKeysSectionsAndNamesAreCaught) {
  config_should_fail("[optimizer]\nname = \"sam\"\nrhoo = 0.1\n", "t.toml:3:8: unknown key optimizer.rhoo; did you mean \"rho\"?");
  // rho belongs to SAM, not to Adam.
  config_should_fail("[optimizer]\nrho = 0.1\n", "unknown key optimizer.rho");
  config_should_fail("[optimiser]\n", "t.toml:1:1: unknown section [optimiser]; did you mean \"optimizer\"?");
  config_should_fail("[optimizer]\nname = \"sma\"\n", "optimizer.name: unknown name \"sma\"; did you mean \"sam\"?");
  config_should_fail("[data]\nname = \"cifar\"\n", "data.name: unknown name \"cifar\"");
  config_should_fail("[shift]\ngenerator = 3\n", "shift.generator must be a string");
  config_should_fail("[optimizer]\nname = \"sam\"\nbase = \"lbfgs\"\n", "optimizer.base: unknown name \"lbfgs\"");
}

TEST(Config, SyntaxErrorsNameTheLine) {
  config_should_fail("[data\nname = 1\n", "t.toml:1:");
  config_should_fail("seed = 0\nthreads = = 2\n", "t.toml:2:");
}

TEST(Config, EveryProblemIsReportedAtOnce) {
  try {
    parse_config("seed = -1\n[shift]\nT = -2\n", "t.toml");
    FAIL();
  } catch (const UserError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("t.toml:1:"), std::string::npos);
    EXPECT_NE(m.find("t.toml:3:"), std::string::npos);
  }
}

TEST(Config, OverridesApplyAndAreNamedInErrors) {
  Config c = parse_config("[optimizer]\nname = \"adam\"\n", "t.toml", {"optimizer.name=sam", "optimizer.rho=0.1", "seed=3"});
  EXPECT_EQ(c.section("optimizer").text("name"), "sam");
  EXPECT_DOUBLE_EQ(c.section("optimizer").real("rho"), 0.1);
  EXPECT_EQ(c.section("").integer("seed"), 3);
  config_should_fail("", "--set optimizer.rho=-1: optimizer.rho must be > 0", {"optimizer.name=sam", "optimizer.rho=-1"});
  config_should_fail("", "expected section.key=value", {"rho"});
}

TEST(Config, IntegersAreAcceptedForFloats) {
  Config c = parse_config("[optimizer]\nname = \"sam\"\nrho = 1\n", "t.toml");
  EXPECT_DOUBLE_EQ(c.section("optimizer").real("rho"), 1.0);
}

TEST(Config, PlainOptimizerIsItsOwnBase) {
  Config c = parse_config("[optimizer]\nname = \"sgd\"\n", "t.toml");
  EXPECT_EQ(c.section("optimizer").text("base"), "sgd");
  EXPECT_DOUBLE_EQ(c.section("optimizer").real("lr"), 0.01);  // SGD's own default
}

TEST(Config, ResolvedConfigRoundTrips) {
  Config a = parse_config("[optimizer]\nname = \"sam\"\n", "t.toml", {"shift.T=5"});
  Config b = parse_config(a.to_toml(), "resolved.toml");
  EXPECT_EQ(a.to_toml(), b.to_toml());
  EXPECT_EQ(a.hash(), b.hash());
  EXPECT_NE(a.hash(), parse_config("", "t.toml").hash());
}

TEST(Config, MissingFileIsAClearError) {
  EXPECT_THROW(load_config("/nonexistent/x.toml"), UserError);
}

TEST(Config, ShippedConfigsValidate) {
  EXPECT_NO_THROW(load_config(std::string(GDA_SOURCE_DIR) + "/configs/rotmnist.toml"));
}

}  // namespace
}  // namespace gda::test
