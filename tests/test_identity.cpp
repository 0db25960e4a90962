// Which keys make a run's identity (its hash: whether an earlier sweep's folder resumes with
// its runs found) and a source model's (whether runs share it) is declared with the keys, in
// the schema (SectionSchema::part, ParamSpec::identity). The hashes of sweeps made before
// that declaration must hold, and every key must have its identity from somewhere.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/params.h"
#include "datasets/dataset.h"
#include "pipeline/config.h"
#include "pipeline/config_schema.h"
#include "pipeline/sweep/plan.h"
#include "stages/models/model.h"
#include "stages/optim/optimizer.h"
#include "stages/shift/generator.h"

namespace gda::test {
namespace {

// Hashes of configs/rotmnist.toml with these overrides, as `gda sweep --dry-run` printed them
// before the identities moved into the schema (commit 0899083): sweep folders made then must
// resume with every job found finished. Config hashes, not results: they hold on any machine.
struct Known {
  std::vector<std::string> overrides;
  const char* source;
  const char* run;
};
const std::vector<Known> kKnown = {
    {{}, "f2703404a3d9d946", "42a27c7fed0b8242"},
    {{"optimizer.name=sam"}, "f2703404a3d9d946", "8657940b857b341e"},
    {{"source.optimizer=same", "optimizer.name=sam"}, "d7f8562918b9b5c0", "93a89dd2b346ad75"},
    {{"deterministic=false"}, "087b885a328993ea", "596e346c4d5dd44e"},
    {{"tf32=true"}, "e7404ac4ba24701c", "afaf9bf82917dcb8"},
    {{"device=cpu"}, "f2703404a3d9d946", "42a27c7fed0b8242"},
    {{"output.name=x"}, "f2703404a3d9d946", "42a27c7fed0b8242"},
    {{"analysis.stages=last"}, "f2703404a3d9d946", "60f87237c412496e"},
    {{"shift.T=3"}, "f2703404a3d9d946", "e823c556d713d34c"},
    {{"evaluation.domains=target"}, "f2703404a3d9d946", "5d25997e2430cda2"},
};

TEST(Identity, HashesOfSweepsMadeBeforeTheSchemaDeclaredThemHold) {
  for (const auto& k : kKnown) {
    auto overrides = k.overrides;
    overrides.push_back("seed=0");
    overrides.push_back("threads=1");  // a sweep's jobs run with --threads-per-job (1)
    const Config c = load_config(std::string(GDA_SOURCE_DIR) + "/configs/rotmnist.toml", overrides);
    std::string what;
    for (const auto& o : k.overrides) what += o + " ";
    EXPECT_EQ(source_hash(c), k.source) << what;
    EXPECT_EQ(run_hash(c), k.run) << what;
  }
}

TEST(Identity, EverySectionStatesItsPartAndComponentKeysTakeTheirSections) {
  const Config c = parse_config("", "t.toml");
  for (const auto& s : config_schema()) {
    ASSERT_TRUE(bool(s.part)) << "[" << s.name << "] states no part (SectionSchema::part)";
    for (const auto& [key, value] : c.section(s.name).values()) EXPECT_NO_THROW(part_of(c, s.name, key)) << key;
  }
  // A component's key takes its section's part: a spec of one that said otherwise would be
  // ignored, so none may.
  auto expect_section = [](const std::string& kind, const std::string& name, const ParamSpecs& specs) {
    for (const auto& spec : specs)
      EXPECT_EQ(spec.identity, Identity::section) << kind << " " << name << ": key " << spec.name;
  };
  for (const auto* e : optimizer_registry().all()) expect_section("optimizer", e->name, e->params);
  for (const auto* e : generator_registry().all()) expect_section("generator", e->name, e->params);
  for (const auto* e : dataset_registry().all()) expect_section("dataset", e->name, e->params);
  for (const auto* e : model_registry().all()) expect_section("model", e->name, e->params);
}

TEST(Identity, WhatEachPartMeans) {
  const Config c = parse_config("", "t.toml");
  EXPECT_EQ(part_of(c, "data", "source_size"), Part::run_and_source);
  EXPECT_EQ(part_of(c, "shift", "T"), Part::run);
  EXPECT_EQ(part_of(c, "shift", "intermediate_end"), Part::run_and_source);  // a generator's key
  EXPECT_EQ(part_of(c, "optimizer", "lr"), Part::run);
  EXPECT_EQ(part_of(c, "", "device"), Part::neither);
  EXPECT_EQ(part_of(c, "", "deterministic"), Part::neither);
  EXPECT_EQ(part_of(c, "analysis", "rho"), Part::neither);
  EXPECT_EQ(part_of(c, "output", "dir"), Part::neither);
  const Config on = parse_config("deterministic = false\n[analysis]\nstages = \"last\"\n[source]\noptimizer = \"same\"\n",
                                 "t.toml");
  EXPECT_EQ(part_of(on, "", "deterministic"), Part::run_and_source);
  EXPECT_EQ(part_of(on, "analysis", "rho"), Part::run);
  EXPECT_EQ(part_of(on, "optimizer", "lr"), Part::run_and_source);
}

}  // namespace
}  // namespace gda::test
