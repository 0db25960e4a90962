// Sweep planning, hashing, the job DAG, the report's arithmetic and the Slurm scripts,
// on sweep files and result files the tests write.
#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "pipeline/config.h"
#include "core/error.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/process.h"
#include "pipeline/sweep/job_graph.h"
#include "pipeline/sweep/plan.h"
#include "pipeline/sweep/report.h"
#include "pipeline/sweep/slurm.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

/// A sweep folder with base.toml (the tiny config) and sweep.toml (`grid_text` after base).
std::string sweep_folder(const std::string& name, const std::string& sweep_text) {
  auto dir = temp_dir(name);
  atomic_write(dir + "/base.toml", tiny_config(2));
  atomic_write(dir + "/sweep.toml", "base = \"base.toml\"\n" + sweep_text);
  return dir;
}

std::set<std::string> hashes(const SweepPlan& p, SweepJob::Kind k) {
  std::set<std::string> h;
  for (const auto& j : p.jobs)
    if (j.kind == k) h.insert(j.hash);
  return h;
}

TEST(SweepPlan, GridExpandsToEveryCombinationWithOneSourcePerSeed) {
  auto dir = sweep_folder("plan", "[grid]\n\"optimizer.name\" = [\"adam\", \"sam\"]\n\"shift.T\" = [0, 2, 5]\n"
                                  "seed = [0, 1]\n");
  const SweepPlan plan = plan_sweep(dir + "/sweep.toml", 1);
  EXPECT_EQ(plan.count(SweepJob::Kind::run), 2 * 3 * 2);
  // The source model depends on the seed, not on the optimizer under study or T.
  EXPECT_EQ(plan.count(SweepJob::Kind::source), 2);
  EXPECT_EQ(hashes(plan, SweepJob::Kind::run).size(), 12u);
  for (const auto& j : plan.jobs) {
    if (j.kind == SweepJob::Kind::source) {
      EXPECT_TRUE(j.needs.empty());
      continue;
    }
    ASSERT_EQ(j.needs.size(), 1u);
    EXPECT_EQ(plan.jobs[j.needs[0]].hash, j.source_hash);
    EXPECT_EQ(plan.jobs[j.needs[0]].point.size(), 0u);  // sources carry no point of their own
    EXPECT_EQ(j.point.size(), 3u);
  }
  // Planning again gives the same jobs: identity is a hash of the resolved config.
  const SweepPlan again = plan_sweep(dir + "/sweep.toml", 1);
  EXPECT_EQ(hashes(again, SweepJob::Kind::run), hashes(plan, SweepJob::Kind::run));
  // The plan survives its JSON form.
  const SweepPlan back = SweepPlan::from_json(plan.to_json(), "plan.json");
  ASSERT_EQ(back.jobs.size(), plan.jobs.size());
  EXPECT_EQ(back.jobs[5].overrides, plan.jobs[5].overrides);
  EXPECT_EQ(back.jobs[5].needs, plan.jobs[5].needs);
}

// Child processes (core/process.h), as the local runner starts jobs: arguments reach the
// program as they are, the exit status comes back, and `env` entries are set for the child
// on top of this process's environment (how each job gets its GPU: CUDA_VISIBLE_DEVICES).
TEST(Process, ChildGetsItsArgumentsTheExtraEnvironmentAndGivesItsStatus) {
  const std::string out = temp_dir("process") + "/out.txt";
  ::setenv("GDA_TEST_KEPT", "kept", 1);
  ::setenv("GDA_TEST_REPLACED", "old", 1);
  const int rc = run_process(
      {"sh", "-c", "echo \"$1|$GDA_TEST_KEPT|$GDA_TEST_REPLACED|$GDA_TEST_NEW\"; exit 3", "sh", "a b;c"}, "", out,
      {"GDA_TEST_REPLACED=new", "GDA_TEST_NEW=1"});
  EXPECT_EQ(rc, 3);
  EXPECT_EQ(read_text(out), "a b;c|kept|new|1\n");
  EXPECT_STREQ(std::getenv("GDA_TEST_REPLACED"), "old") << "the parent's environment stays as it was";
  EXPECT_EQ(run_process({"gda-no-such-program"}, "", out), 127);
}

TEST(SweepPlan, HashesChangeWithWhatAffectsTheJobOnly) {
  auto config = [](const std::vector<std::string>& o) { return parse_config(tiny_config(2), "t.toml", o); };
  const Config base = config({});
  EXPECT_EQ(run_hash(base), run_hash(config({})));
  // Where results go changes no number.
  EXPECT_EQ(run_hash(base), run_hash(config({"output.dir=\"elsewhere\""})));
  // The run depends on everything else.
  EXPECT_NE(run_hash(base), run_hash(config({"optimizer.name=sam"})));
  EXPECT_NE(run_hash(base), run_hash(config({"evaluation.domains=target"})));
  // Source training does not depend on the optimizer under study, T, adaptation or evaluation…
  for (const auto& o : {"optimizer.name=sam", "shift.T=5", "adaptation.epochs=1", "evaluation.domains=target"})
    EXPECT_EQ(source_hash(base), source_hash(config({o}))) << o;
  // …but on the seed, the threads, the data, the model and its own training.
  for (const auto& o : {"seed=1", "threads=1", "data.source_size=150", "model.hidden=16", "source.epochs=3",
                        "shift.target_max=45.0"})
    EXPECT_NE(source_hash(base), source_hash(config({o}))) << o;
  // Where a run runs is not part of what it is (a sweep resumed on a GPU keeps its CPU
  // runs); deterministic and tf32 are, once they leave their defaults.
  EXPECT_EQ(run_hash(base), run_hash(config({"device=cpu"})));
  EXPECT_EQ(source_hash(base), source_hash(config({"device=cpu"})));
  EXPECT_EQ(run_hash(base), run_hash(config({"deterministic=true", "tf32=false"})));
  EXPECT_NE(run_hash(base), run_hash(config({"deterministic=false"})));
  EXPECT_NE(source_hash(base), source_hash(config({"tf32=true"})));
  // With source.optimizer = "same" the optimizer section trains the source too.
  const Config same = config({"source.optimizer=same"});
  EXPECT_NE(source_hash(same), source_hash(config({"source.optimizer=same", "optimizer.name=sam"})));
}

TEST(SweepPlan, PointsAreCrossedWithTheGridKeysTheyDoNotSet) {
  auto dir = sweep_folder("points", "[grid]\nseed = [0, 1, 2]\n[set]\n\"adaptation.epochs\" = 1\n"
                                    "[[points]]\n\"optimizer.name\" = \"tram\"\n\"optimizer.target\" = \"init\"\n"
                                    "[[points]]\n\"optimizer.name\" = \"sam\"\nseed = 7\n");
  const SweepPlan plan = plan_sweep(dir + "/sweep.toml", 2);
  // 3 grid runs (the base optimizer), 3 tram runs, 1 sam run with its own seed.
  EXPECT_EQ(plan.count(SweepJob::Kind::run), 7);
  EXPECT_EQ(plan.count(SweepJob::Kind::source), 4);  // seeds 0, 1, 2, 7
  int tram = 0;
  for (const auto& j : plan.jobs) {
    if (j.kind != SweepJob::Kind::run) continue;
    const Config c = job_config(plan, j);
    EXPECT_EQ(c.section("adaptation").integer("epochs"), 1);  // [set] applies everywhere
    EXPECT_EQ(c.section("").integer("threads"), 2);            // threads per job
    if (c.section("optimizer").text("name") == "tram") {
      ++tram;
      EXPECT_EQ(c.section("optimizer").text("target"), "init");
    }
  }
  EXPECT_EQ(tram, 3);
}

TEST(SweepPlan, BadSweepFilesNameTheFileAndKey) {
  auto message = [](const std::string& text) {
    auto dir = sweep_folder("bad", text);
    return user_error_of([&] { plan_sweep(dir + "/sweep.toml", 1); });
  };
  EXPECT_NE(message("[grid]\nseed = 3\n").find("sweep.toml:3:8: grid.seed"), std::string::npos);
  EXPECT_NE(message("[grid]\n\"optimizer.name\" = [\"adam\", \"nosuch\"]\n").find("nosuch"), std::string::npos);
  EXPECT_NE(message("[grid]\n\"optimizer.name\" = [\"adam\", \"nosuch\"]\n").find("optimizer.name=nosuch"),
            std::string::npos);
  EXPECT_NE(message("grids = 1\n").find("unknown key \"grids\""), std::string::npos);
  auto dir = temp_dir("nobase");
  atomic_write(dir + "/sweep.toml", "base = \"missing.toml\"\n");
  EXPECT_THROW(plan_sweep(dir + "/sweep.toml", 1), UserError);
}

SweepPlan two_by_two() {
  static const std::string dir =
      sweep_folder("dag", "[grid]\n\"optimizer.name\" = [\"adam\", \"sam\"]\nseed = [0, 1]\n");
  return plan_sweep(dir + "/sweep.toml", 1);
}

TEST(SweepDag, TwoOptimizersTimesTwoSeedsShareTwoSourceModels) {
  const SweepPlan plan = two_by_two();
  EXPECT_EQ(plan.count(SweepJob::Kind::source), 2);
  EXPECT_EQ(plan.count(SweepJob::Kind::run), 4);
  const auto order = checked_job_order(plan);
  ASSERT_EQ(order.size(), 6u);
  std::vector<int> position(6);
  for (int i = 0; i < 6; ++i) position[order[i]] = i;
  for (const auto& j : plan.jobs)
    for (int need : j.needs) EXPECT_LT(position[need], position[j.index]);
  const std::string text = describe_job_graph(plan);
  EXPECT_NE(text.find("2 source models, 4 runs"), std::string::npos) << text;
  EXPECT_NE(text.find("(used by 2 runs)"), std::string::npos) << text;
}

TEST(SweepDag, CyclesMissingInputsAndConflictingOutputsAreRefused) {
  SweepPlan cycle = two_by_two();
  cycle.jobs[0].needs = {2};  // source 0 ← run 2 ← source 0
  EXPECT_THROW(checked_job_order(cycle), UserError);
  SweepPlan missing = two_by_two();
  missing.jobs[3].needs = {42};
  EXPECT_THROW(checked_job_order(missing), UserError);
  SweepPlan conflict = two_by_two();
  conflict.jobs[3].hash = conflict.jobs[2].hash;  // two runs writing runs/<same hash>
  EXPECT_THROW(checked_job_order(conflict), UserError);
}

/// A job hash as gda writes them (16 hex digits: plan.json's are checked) for a test's name.
std::string job_hash(const std::string& name) { return fmt::format("{:016x}", fnv1a(name, kGdaHashStart)); }

/// A run's result folder written by hand: final accuracy `acc`, stage accuracies `stages`.
void write_run(const std::string& dir, const std::string& hash, double acc, std::vector<double> stages,
               double seconds) {
  const std::string run = dir + "/runs/" + hash;
  std::filesystem::create_directories(run);
  atomic_write(run + "/summary.json",
               fmt::format(R"({{"status": "ok", "error": "", "final_target_accuracy": {}, "zero_shot_target_accuracy": {},
 "seconds": {{"total": {}}}, "passes": {{"forward": 10, "backward": 8}}}})",
                           acc, stages.front(), seconds));
  std::string lines;
  for (std::size_t k = 0; k < stages.size(); ++k)
    lines += fmt::format(R"({{"stage": {}, "accuracy": {{"target": {}}}}})", k, stages[k]) + "\n";
  atomic_write(run + "/stages.jsonl", lines);
}

/// A hand-made plan for the report tests: sweep.toml and base.toml in `dir`, the given axes.
SweepPlan hand_made_plan(const std::string& dir, std::vector<std::string> axes) {
  SweepPlan plan;
  plan.sweep_file = dir + "/sweep.toml";
  plan.base_config = dir + "/base.toml";
  plan.axes = std::move(axes);
  return plan;
}

/// Appends a job named `name` to a hand-made plan; returns its hash (job_hash(name)).
std::string add_job(SweepPlan& plan, const std::string& name, std::map<std::string, std::string> point,
                    SweepJob::Kind kind = SweepJob::Kind::run) {
  SweepJob j;
  j.kind = kind;
  j.hash = job_hash(name);
  j.source_hash = kind == SweepJob::Kind::source ? j.hash : job_hash("s0");
  j.point = std::move(point);
  j.index = int(plan.jobs.size());
  plan.jobs.push_back(j);
  return j.hash;
}

TEST(SweepReport, MeanAndSampleStdOverSeedsOnHandMadeResults) {
  auto dir = temp_dir("report");
  SweepPlan plan = hand_made_plan(dir, {"optimizer.name", "seed"});
  add_job(plan, "s0", {}, SweepJob::Kind::source);
  for (int seed = 0; seed < 3; ++seed) add_job(plan, fmt::format("a{}", seed), {{"optimizer.name", "\"adam\""}, {"seed", std::to_string(seed)}});
  for (int seed = 0; seed < 3; ++seed) add_job(plan, fmt::format("b{}", seed), {{"optimizer.name", "\"sam\""}, {"seed", std::to_string(seed)}});
  atomic_write(dir + "/plan.json", plan.to_json());
  std::filesystem::create_directories(dir + "/sources/" + job_hash("s0"));
  for (const char* file : {"/model.pt", "/stage0.json"}) atomic_write(dir + "/sources/" + job_hash("s0") + file, "");
  // adam: final 0.5, 0.6, 0.7 → mean 0.6; deviations −0.1, 0, 0.1 → sample std √(0.02/2) = 0.1.
  write_run(dir, job_hash("a0"), 0.5, {0.3, 0.5}, 10);
  write_run(dir, job_hash("a1"), 0.6, {0.2, 0.6}, 20);
  write_run(dir, job_hash("a2"), 0.7, {0.4, 0.7}, 30);
  // sam: one finished run (no std), one error, one never run.
  write_run(dir, job_hash("b0"), 0.8, {0.3, 0.8}, 40);
  std::filesystem::create_directories(dir + "/failed");
  atomic_write(dir + "/failed/" + job_hash("b1") + ".txt", "job 5 (sam seed 1): bad data\n");

  const SweepReport r = collect_report(dir);
  EXPECT_EQ(r.axes, std::vector<std::string>{"optimizer.name"});
  ASSERT_EQ(r.groups.size(), 2u);
  const ResultGroup& adam = r.groups[0];
  EXPECT_EQ(adam.label, "optimizer.name=adam");
  EXPECT_NEAR(*adam.final_target.mean, 0.6, 1e-12);
  EXPECT_NEAR(*adam.final_target.std, 0.1, 1e-12);
  EXPECT_NEAR(*adam.zero_shot.mean, 0.3, 1e-12);            // (0.3 + 0.2 + 0.4)/3
  EXPECT_NEAR(*adam.stage_target[0].std, 0.1, 1e-12);       // same spread as the finals
  EXPECT_NEAR(*adam.seconds.mean, 20.0, 1e-12);
  const ResultGroup& sam = r.groups[1];
  EXPECT_EQ(sam.final_target.n, 1u);
  EXPECT_NEAR(*sam.final_target.mean, 0.8, 1e-12);
  EXPECT_FALSE(sam.final_target.std.has_value());
  EXPECT_EQ(r.ok, 4);
  EXPECT_EQ(r.errors, 1);
  EXPECT_EQ(r.not_run, 1);
  EXPECT_EQ(r.source_models, 1);

  const std::string md = write_report(dir, r);
  // A plan from before [compare] compares against the first optimizer: adam, whose Δ is empty.
  EXPECT_NE(md.find("| adam | 3/3 | 60.0 ± 10.0 |  | 30.0 ± 10.0 | 20.0 | 10 / 8 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| sam | 1/3 | 80.0 | +30.0 (n = 1) |"), std::string::npos) << md;
  EXPECT_NE(md.find("| sam | 1/3 | 80.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("bad data"), std::string::npos) << md;
  // The context block: which plan, and what made the report.
  EXPECT_NE(md.find("Plan " + r.plan_hash + " of " + dir + "/sweep.toml, 1 threads per job."), std::string::npos) << md;
  EXPECT_EQ(r.plan_hash.size(), 16u);
  EXPECT_NE(md.find("Report made 20"), std::string::npos) << md;
  EXPECT_NE(md.find(", LibTorch "), std::string::npos) << md;
  const std::string csv = read_text(dir + "/report.csv");
  EXPECT_NE(csv.find("\"adam\",3,0.6,0.1,0.3,0.1,20,10,8"), std::string::npos) << csv;
  const auto report_json = nlohmann::json::parse(read_text(dir + "/report.json"));
  EXPECT_EQ(report_json["context"]["plan_hash"], r.plan_hash);
  EXPECT_FALSE(report_json["context"]["libtorch"].get<std::string>().empty());
}

TEST(SweepReport, PairedBootstrapIntervalAgainstItsExactDistribution) {
  // Two differences {0, 1}: a resample's mean is 0, 0.5 or 1 with probabilities ¼, ½, ¼, so
  // the 2.5th percentile is 0 and the 97.5th is 1.
  const MeanCi two = MeanCi::bootstrap({0, 1}, 42);
  EXPECT_DOUBLE_EQ(*two.mean, 0.5);
  EXPECT_DOUBLE_EQ(*two.low, 0.0);
  EXPECT_DOUBLE_EQ(*two.high, 1.0);
  const MeanCi same = MeanCi::bootstrap({0.02, 0.02, 0.02}, 1);  // no spread, no width
  EXPECT_DOUBLE_EQ(*same.low, 0.02);
  EXPECT_DOUBLE_EQ(*same.high, 0.02);
  EXPECT_FALSE(MeanCi::bootstrap({0.3}, 1).low.has_value());  // one seed: no interval
  // Three seeds {1, 2, 6}: 27 equally likely resamples; the smallest mean (1) has probability
  // 1/27 > 2.5 %, so the lower bound is 1, and likewise the upper bound is 6.
  const MeanCi three = MeanCi::bootstrap({1, 2, 6}, 7);
  EXPECT_DOUBLE_EQ(*three.low, 1.0);
  EXPECT_DOUBLE_EQ(*three.high, 6.0);
}

TEST(SweepReport, AnalysisIsAggregatedAndSharpnessIsRankedAgainstAccuracy) {
  auto dir = temp_dir("report-analysis");
  SweepPlan plan = hand_made_plan(dir, {"optimizer.name", "seed"});
  // (last-stage target worst_case, final target accuracy) per run. Ranks of x: 0.1→1 … 0.6→6;
  // of y: 0.57→1, 0.58→2, 0.60→3, 0.62→4, 0.70→5, 0.72→6. Rank differences 2, 0, 4, −3, −5, 2:
  // Σd² = 58, so Spearman's ρ = 1 − 6·58/(6·35) = −0.657.
  const std::vector<std::pair<double, double>> adam = {{0.5, 0.60}, {0.4, 0.62}, {0.6, 0.58}},
                                               sam = {{0.2, 0.70}, {0.1, 0.72}, {0.3, 0.57}};
  for (const auto& [name, runs] : {std::pair{std::string("adam"), adam}, std::pair{std::string("sam"), sam}})
    for (std::size_t seed = 0; seed < 3; ++seed) {
      const std::string hash =
          add_job(plan, name + std::to_string(seed), {{"optimizer.name", "\"" + name + "\""}, {"seed", std::to_string(seed)}});
      write_run(dir, hash, runs[seed].second, {0.3, runs[seed].second}, 10);
      // Stage 1 measured (the last), stage 0 not.
      atomic_write(dir + "/runs/" + hash + "/stages.jsonl",
                   fmt::format(R"({{"stage": 0, "accuracy": {{"target": 0.3}}}})"
                               "\n"
                               R"({{"stage": 1, "accuracy": {{"target": {}}}, "analysis": {{"target": {{"worst_case": {}, "linear_cka_features_source": {}}}}}}})"
                               "\n",
                               runs[seed].second, runs[seed].first, 0.9 - 0.1 * double(seed)));
    }
  atomic_write(dir + "/plan.json", plan.to_json());
  const SweepReport r = collect_report(dir);
  ASSERT_EQ(r.groups.size(), 2u);
  const auto& cka = r.groups[0].stage_analysis.at("target/linear_cka_features_source");
  ASSERT_EQ(cka.size(), 2u);
  EXPECT_FALSE(cka[0].mean.has_value());           // stage 0 was not measured
  EXPECT_NEAR(*cka[1].mean, 0.8, 1e-12);           // 0.9, 0.8, 0.7
  EXPECT_NEAR(*cka[1].std, 0.1, 1e-12);
  ASSERT_EQ(r.sharpness_vs_accuracy.size(), 1u);  // worst_case alone was measured
  const auto& m = r.sharpness_vs_accuracy.front();
  EXPECT_EQ(m.measurement, "target/worst_case");
  ASSERT_TRUE(m.over_runs);
  EXPECT_NEAR(m.over_runs->rho, 1 - 6.0 * 58 / 210, 1e-12);
  EXPECT_EQ(m.over_runs->n, 6u);
  EXPECT_FALSE(m.over_groups);  // two groups are too few
  const std::string md = write_report(dir, r);
  EXPECT_NE(md.find("## Analysis"), std::string::npos) << md;
  EXPECT_NE(md.find("| target/worst_case | 0.5 ± 0.1 | 0.2 ± 0.1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| target/worst_case | -0.66 (p = "), std::string::npos) << md;
  EXPECT_NE(read_text(dir + "/analysis_stages.csv").find("\"optimizer.name=sam\",1,target/worst_case,0.2,0.1,3"),
            std::string::npos);
  const auto j = nlohmann::json::parse(read_text(dir + "/report.json"));
  EXPECT_NEAR(j["sharpness_vs_accuracy"][0]["over_runs"]["rho"].get<double>(), 1 - 6.0 * 58 / 210, 1e-12);
}

// The paired 95 % interval, against numbers worked by hand: differences {1, 2, 3, 6} have
// mean 3 and sample std √(14/3) = 2.16025; t(0.975, 3) = 3.182, so the half-width is
// 3.182 · 2.16025 / 2 = 3.43696 and the interval [−0.43696, 6.43696], which holds 0.
TEST(SweepReport, PairedIntervalMatchesAHandComputedExample) {
  const MeanCi d = MeanCi::of({1, 2, 3, 6});
  EXPECT_NEAR(*d.mean, 3.0, 1e-12);
  EXPECT_NEAR(*d.low, -0.43696, 1e-4);
  EXPECT_NEAR(*d.high, 6.43696, 1e-4);
  EXPECT_FALSE(d.excludes_zero());
  EXPECT_FALSE(MeanCi::of({0.5}).low.has_value());
  EXPECT_NEAR(t_quantile_975(1), 12.706, 1e-9);
  EXPECT_NEAR(t_quantile_975(60), 2.0003, 2e-4);  // the expansion beyond the table
  EXPECT_NEAR(t_quantile_975(1000), 1.9623, 2e-4);
}

// Each optimizer against the baseline on the same seeds: sam − adam per seed is 0.10, 0.15,
// 0.10 → mean 0.11667, std 0.028868, half-width 4.303 · 0.028868 / √3 = 0.071717, so
// [+4.5, +18.8] points, which excludes 0 (*); sgd finished one seed only.
TEST(SweepReport, EveryOptimizerAgainstTheBaselineOnTheSameSeeds) {
  auto dir = temp_dir("report-paired");
  SweepPlan plan = hand_made_plan(dir, {"optimizer.name", "seed"});
  plan.compare_axis = "optimizer.name";
  plan.baseline = "\"adam\"";
  const std::map<std::string, std::vector<double>> finals = {
      {"adam", {0.5, 0.6, 0.7}}, {"sam", {0.6, 0.75, 0.8}}, {"sgd", {0.4}}};
  for (const auto& [name, values] : finals)
    for (std::size_t seed = 0; seed < 3; ++seed) {
      const std::string hash = add_job(plan, fmt::format("{}{}", name, seed),
                                       {{"optimizer.name", "\"" + name + "\""}, {"seed", std::to_string(seed)}});
      if (seed < values.size()) write_run(dir, hash, values[seed], {0.3, values[seed]}, 10);
    }
  atomic_write(dir + "/plan.json", plan.to_json());
  const SweepReport r = collect_report(dir);
  ASSERT_EQ(r.groups.size(), 3u);
  EXPECT_FALSE(r.groups[0].vs_baseline.has_value());  // adam is the baseline
  const MeanCi& sam = *r.groups[1].vs_baseline;
  EXPECT_EQ(sam.n, 3u);
  EXPECT_NEAR(*sam.mean, 0.116667, 1e-5);
  EXPECT_NEAR(*sam.low, 0.116667 - 0.071717, 1e-4);
  EXPECT_NEAR(*sam.high, 0.116667 + 0.071717, 1e-4);
  EXPECT_TRUE(sam.excludes_zero());
  const std::string md = write_report(dir, r);
  EXPECT_NE(md.find("| sam | 3/3 | 71.7 ± 10.4 | +11.7 [+4.5, +18.8] * |"), std::string::npos) << md;
  EXPECT_NE(md.find("| sgd | 1/3 | 40.0 | -10.0 (n = 1) |"), std::string::npos) << md;
  EXPECT_NE(md.find("Δ: final target accuracy minus that of optimizer.name = adam on the same seeds"),
            std::string::npos) << md;
  EXPECT_NE(read_text(dir + "/report.csv").find(",0.116667,0.04495,0.188383,3"), std::string::npos)
      << read_text(dir + "/report.csv");
}

TEST(SweepPlan, CompareNamesTheAxisAndBaselineOrDefaultsToTheFirstOptimizer) {
  const std::string grid = "[grid]\n\"optimizer.name\" = [\"sgd\", \"sam\"]\nseed = [0, 1]\n";
  SweepPlan plan = plan_sweep(sweep_folder("compare-default", grid) + "/sweep.toml", 1);
  EXPECT_EQ(plan.compare_axis, "optimizer.name");
  EXPECT_EQ(plan.baseline, "\"sgd\"");
  plan = plan_sweep(sweep_folder("compare", grid + "[compare]\nbaseline = \"sam\"\n") + "/sweep.toml", 1);
  EXPECT_EQ(plan.baseline, "\"sam\"");
  EXPECT_EQ(SweepPlan::from_json(plan.to_json(), "plan.json").baseline, "\"sam\"");
  auto message = [&](const std::string& compare) {
    return user_error_of([&] { plan_sweep(sweep_folder("compare-bad", grid + compare) + "/sweep.toml", 1); });
  };
  EXPECT_NE(message("[compare]\naxis = \"shift.T\"\n").find("compare.axis = \"shift.T\" is not a swept key"),
            std::string::npos);
  EXPECT_NE(message("[compare]\nbaseline = \"adam\"\n").find("compare.baseline = \"adam\" is not a value of "
                                                            "optimizer.name"), std::string::npos);
  EXPECT_NE(message("[compare]\nbasline = \"sgd\"\n").find("compare.basline: unknown key"), std::string::npos);
  // The interval: Student's t unless the sweep file asks for the paired bootstrap.
  EXPECT_EQ(plan.interval, "t");
  plan = plan_sweep(sweep_folder("compare-boot", grid + "[compare]\ninterval = \"bootstrap\"\n") + "/sweep.toml", 1);
  EXPECT_EQ(SweepPlan::from_json(plan.to_json(), "plan.json").interval, "bootstrap");
  EXPECT_NE(message("[compare]\ninterval = \"wald\"\n").find("compare.interval must be \"t\""), std::string::npos);
}

// A result folder damaged by hand or by a disk, and [[points]] that leave a swept key (here
// shift.T) to the base config: the report says so for each run and is still written.
TEST(SweepReport, DamagedResultsAndPointsWithoutAnAxisAreReportedNotFatal) {
  auto dir = temp_dir("report-damaged");
  SweepPlan plan = hand_made_plan(dir, {"shift.T", "optimizer.name", "seed"});
  auto add = [&](const std::string& hash, std::map<std::string, std::string> point) { add_job(plan, hash, point); };
  add("t2", {{"shift.T", "2"}, {"seed", "0"}});
  add("t5", {{"shift.T", "5"}, {"seed", "0"}});
  add("sam", {{"optimizer.name", "\"sam\""}, {"seed", "0"}});  // a [[points]] entry without shift.T
  add("cut", {{"shift.T", "5"}, {"seed", "1"}});
  add("gone", {{"shift.T", "2"}, {"seed", "1"}});
  add("garbled", {{"shift.T", "2"}, {"seed", "2"}});
  atomic_write(dir + "/plan.json", plan.to_json());
  write_run(dir, job_hash("t2"), 0.5, {0.3, 0.5}, 10);
  write_run(dir, job_hash("t5"), 0.6, {0.3, 0.6}, 10);
  write_run(dir, job_hash("sam"), 0.7, {0.3, 0.7}, 10);
  write_run(dir, job_hash("cut"), 0.7, {0.3, 0.7}, 10);
  std::filesystem::resize_file(dir + "/runs/" + job_hash("cut") + "/summary.json", 20);  // truncated
  write_run(dir, job_hash("gone"), 0.7, {0.3, 0.7}, 10);
  std::filesystem::remove(dir + "/runs/" + job_hash("gone") + "/summary.json");
  write_run(dir, job_hash("garbled"), 0.7, {0.3, 0.7}, 10);
  atomic_write(dir + "/runs/" + job_hash("garbled") + "/stages.jsonl", "{\"stage\": 0, \"accuracy\": {\"target\": 0.3}}\n{\"sta\n");

  const SweepReport r = collect_report(dir);
  EXPECT_EQ(r.ok, 3);
  EXPECT_EQ(r.errors, 3);
  const std::string md = write_report(dir, r);
  for (const std::string& expected :
       {dir + "/runs/" + job_hash("cut") + "/summary.json", dir + "/runs/" + job_hash("gone") + "/summary.json is missing", dir + "/runs/" + job_hash("garbled") + "/stages.jsonl:2",
        "delete " + dir + "/runs/" + job_hash("cut") + " and run gda sweep again"})
    EXPECT_NE(md.find(expected), std::string::npos) << expected << "\n" << md;
  EXPECT_NE(md.find("| 2 |  | 1/3 | 50.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("|  | sam | 1/1 | 70.0 |"), std::string::npos) << md;
}

// Jobs run the config resolved when the sweep was planned: editing the base config during
// a sweep (or before its Slurm tasks start) changes nothing. A plan from before configs
// were kept re-reads the base, and refuses to run what no longer has the planned hash.
TEST(SweepPlan, JobsRunTheConfigFrozenAtPlanTime) {
  auto dir = sweep_folder("frozen", "[grid]\n\"optimizer.name\" = [\"adam\", \"sam\"]\n");
  const SweepPlan plan = SweepPlan::from_json(plan_sweep(dir + "/sweep.toml", 1).to_json(), "plan.json");
  std::string edited = tiny_config(2);
  edited.replace(edited.find("[adaptation]\nepochs = 2"), 23, "[adaptation]\nepochs = 9");
  atomic_write(dir + "/base.toml", edited);
  for (const auto& j : plan.jobs) {
    ASSERT_FALSE(j.config.empty());
    const Config c = job_config(plan, j, {"device=cpu"});
    EXPECT_NE(c.section("adaptation").integer("epochs"), 9) << j.label;
    EXPECT_EQ(c.dir, dir);  // relative data paths still resolve against the base's folder
    EXPECT_EQ(j.kind == SweepJob::Kind::source ? source_hash(c) : run_hash(c), j.hash);
  }
  SweepPlan old = plan;
  for (auto& j : old.jobs) j.config.clear();
  EXPECT_NE(user_error_of([&] { job_config(old, old.jobs.back()); }).find("no longer has the hash"), std::string::npos);
  old.jobs.back().config = plan.jobs.back().config;
  old.jobs.back().hash = "0123456789abcdef";  // plan.json edited by hand
  EXPECT_NE(user_error_of([&] { job_config(old, old.jobs.back()); }).find("run gda sweep again"), std::string::npos);
}

TEST(SweepSlurm, ScriptsRunSourcesThenRunsThenTheReport) {
  const SweepPlan plan = two_by_two();
  const auto scripts = slurm_scripts("/shared/sw", plan, {"/opt/gda/bin/gda", {"--partition=cpu"}, 3});
  ASSERT_EQ(scripts.size(), 3u);
  EXPECT_EQ(scripts[0].name, "sources");
  EXPECT_NE(scripts[0].text.find("#SBATCH --array=0-1%3\n"), std::string::npos) << scripts[0].text;
  EXPECT_NE(scripts[0].text.find("#SBATCH --partition=cpu\n"), std::string::npos);
  EXPECT_NE(scripts[0].text.find("#SBATCH --cpus-per-task=1\n"), std::string::npos);
  EXPECT_NE(scripts[0].text.find("exec '/opt/gda/bin/gda' job '/shared/sw' --index $((0 + SLURM_ARRAY_TASK_ID))"),
            std::string::npos) << scripts[0].text;
  EXPECT_EQ(scripts[1].name, "runs");
  EXPECT_NE(scripts[1].text.find("#SBATCH --array=0-3%3\n"), std::string::npos) << scripts[1].text;
  EXPECT_NE(scripts[1].text.find("--index $((2 + SLURM_ARRAY_TASK_ID))"), std::string::npos);
  EXPECT_EQ(scripts[2].name, "report");
  EXPECT_NE(scripts[2].text.find("exec '/opt/gda/bin/gda' report '/shared/sw'"), std::string::npos);
}

}  // namespace
}  // namespace gda::test
