// Typed choice keys (core/choice.h): the names and the enum declared together give the
// key's spec and its value, and the validator refuses a name outside them.
#include "core/choice.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "core/error.h"
#include "pipeline/config.h"
#include "pipeline/config_schema.h"

namespace gda::test {
namespace {

enum class Colour { red, green, blue };
const Choice<Colour> kColour{{"red", Colour::red}, {"green", Colour::green}, {"blue", Colour::blue}};

TEST(Choice, ItsSpecListsTheNamesAndItsDefaultByName) {
  const ParamSpec spec = kColour.spec("colour", Colour::green, "a colour");
  EXPECT_EQ(spec.name, "colour");
  EXPECT_EQ(std::get<std::string>(spec.default_value), "green");
  EXPECT_EQ(spec.choices, (std::vector<std::string>{"red", "green", "blue"}));
  EXPECT_FALSE(spec.list);
  EXPECT_NE(spec.check(Value(std::string("purple"))), "");
  EXPECT_EQ(spec.check(Value(std::string("blue"))), "");
  const ParamSpec list = kColour.list_spec("colours", "red,blue", "colours");
  EXPECT_TRUE(list.list);
  EXPECT_EQ(list.choices, spec.choices);
}

TEST(Choice, ValuesComeBackAsTheEnumByName) {
  Params p = Params::defaults({kColour.spec("colour", Colour::green, ""), kColour.list_spec("colours", "blue,red", "")});
  EXPECT_EQ(kColour.of(p, "colour"), Colour::green);
  p.set("colour", std::string("blue"));
  EXPECT_EQ(kColour.of(p, "colour"), Colour::blue);
  EXPECT_EQ(kColour.items_of(p, "colours"), (std::vector<Colour>{Colour::blue, Colour::red}));
  EXPECT_EQ(kColour.name(Colour::red), "red");
  // Only code that skipped the validator can hold another name: a bug, not a user's mistake.
  p.set("colour", std::string("purple"));
  EXPECT_THROW(kColour.of(p, "colour"), std::logic_error);
}

TEST(Choice, TheValidatorRefusesANameOutsideAComponentsChoice) {
  // tram's target, an optimizer key declared as a Choice.
  try {
    parse_config("[optimizer]\nname = \"tram\"\ntarget = \"previous\"\n", "t.toml");
    ADD_FAILURE() << "accepted";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("t.toml:3:10: optimizer.target must be one of \"prev\" \"init\" \"noise\" "
                                         "\"fisher\""),
              std::string::npos)
        << e.what();
  }
  const Config c = parse_config("[evaluation]\ndomains = \"target\"\n", "t.toml");
  EXPECT_EQ(evaluated_domains_choice().of(c.section("evaluation"), "domains"), EvaluatedDomains::target);
}

}  // namespace
}  // namespace gda::test
