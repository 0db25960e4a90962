// Hostile input, second round (issue 26): what reaches gnuplot is data, names read from
// plan.json stay inside the sweep folder, folders that are not gda's are not written, one
// writer per run folder, a full disk loses nothing and crashes nothing, non-finite or oversized
// input is an input mistake naming the file, and what used to pass without a word is said.
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <zlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/files.h"
#include "datasets/dataset.h"
#include "pipeline/config.h"
#include "pipeline/run.h"
#include "pipeline/run_record.h"
#include "pipeline/sweep/gnuplot_text.h"
#include "pipeline/sweep/job.h"
#include "pipeline/sweep/plan.h"
#include "pipeline/sweep/report.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

namespace fs = std::filesystem;

int gda(const std::string& args, const std::string& log) {
  return WEXITSTATUS(std::system(fmt::format("{} {} > {} 2>&1", GDA_BINARY, args, log).c_str()));
}

bool on_path(const std::string& program) {
  return std::system(fmt::format("command -v {} > /dev/null 2>&1", program).c_str()) == 0;
}

/// A run folder of a sweep written by hand: summary.json and stages.jsonl.
void write_result(const std::string& dir, const std::string& hash, double final_accuracy) {
  const std::string run = dir + "/runs/" + hash;
  fs::create_directories(run);
  atomic_write(run + "/summary.json",
               fmt::format(R"({{"status": "ok", "final_target_accuracy": {0}, "zero_shot_target_accuracy": 0.3,
 "seconds": {{"total": 1}}, "passes": {{"forward": 1, "backward": 1}}}})", final_accuracy));
  atomic_write(run + "/stages.jsonl", fmt::format("{{\"stage\": 0, \"accuracy\": {{\"target\": 0.3}}}}\n"
                                                  "{{\"stage\": 1, \"accuracy\": {{\"target\": {}}}}}\n", final_accuracy));
}

std::string hex_hash(int i) { return fmt::format("{:016x}", 0xabc000 + i); }

// 1. Sweep values reach plot titles and labels; gnuplot must read them as text, never run them.
TEST(HostileInput, GnuplotQuotingLeavesNothingToExecute) {
  EXPECT_EQ(gnuplot_quoted("sam"), "'sam'");
  EXPECT_EQ(gnuplot_quoted("it's"), "'it''s'");
  EXPECT_EQ(gnuplot_quoted("a\nb\rc\td"), "'a b c d'");
  EXPECT_EQ(gnuplot_quoted("`touch x` \"y\" @m"), "'`touch x` \"y\" @m'");  // inert inside single quotes
  EXPECT_EQ(gnuplot_data_text("a \"b\"\nc"), "a 'b' c");
  EXPECT_TRUE(plain_file_name_part("lambda_max"));
  EXPECT_FALSE(plain_file_name_part("../x"));
  EXPECT_FALSE(plain_file_name_part("a'b"));
}

TEST(HostileInput, SweepValuesInPlotsRunNoCommand) {
  if (!on_path("gnuplot")) GTEST_SKIP() << "gnuplot is not installed";
  const auto dir = temp_dir("hostile-gnuplot");
  const std::string canary = dir + "/PWNED";
  const std::vector<std::string> values = {
      "`touch " + canary + "1`",
      "x\" . system(\"touch " + canary + "2\") . \"",
      "a\n!touch " + canary + "3\nset output 'evil.png'",
      "it's `touch " + canary + "4` @x",
      "b\\\" title `touch " + canary + "5`",
  };
  SweepPlan plan;
  plan.sweep_file = dir + "/sweep.toml";
  plan.base_config = dir + "/base.toml";
  plan.axes = {"data.path", "shift.T", "seed"};
  int i = 0;
  for (const auto& v : values)
    for (const char* t : {"1", "2"}) {
      SweepJob j;
      j.index = i;
      j.hash = j.source_hash = hex_hash(i);
      j.kind = SweepJob::Kind::run;
      j.point = {{"data.path", nlohmann::json(v).dump()}, {"shift.T", t}, {"seed", "0"}};
      plan.jobs.push_back(j);
      write_result(dir, j.hash, 0.5 + 0.01 * i++);
    }
  atomic_write(dir + "/plan.json", plan.to_json());
  const std::string md = write_report(dir, collect_report(dir));
  for (int k = 1; k <= 5; ++k) EXPECT_FALSE(fs::exists(canary + std::to_string(k))) << k;
  EXPECT_FALSE(fs::exists(dir + "/plots/evil.png"));
  EXPECT_TRUE(fs::exists(dir + "/plots/accuracy_by_T.png")) << md;
  EXPECT_TRUE(fs::exists(dir + "/plots/final_ranked.png")) << md;
  // No value wrote a line of its own: every script line is one of gda's commands.
  for (const auto& e : fs::directory_iterator(dir + "/plots")) {
    if (e.path().extension() != ".gp") continue;
    std::istringstream script(read_text(e.path().string()));
    for (std::string line; std::getline(script, line);)
      EXPECT_TRUE(line.rfind("set ", 0) == 0 || line.rfind("plot ", 0) == 0 || line.rfind("unset ", 0) == 0)
          << e.path() << ": " << line;
  }
}

// 2. A hash edited in plan.json is refused before any path is made from it.
TEST(HostileInput, EditedPlanNamesAreRefusedBeforeAnyPathIsMade) {
  const auto root = temp_dir("hostile-plan");
  const std::string dir = root + "/a/b/sweep";
  fs::create_directories(dir);
  atomic_write(root + "/a/victim.txt", "mine");
  atomic_write(root + "/a/victim.partial", "mine too");
  SweepPlan plan;
  plan.sweep_file = dir + "/sweep.toml";
  plan.base_config = dir + "/base.toml";
  for (int i = 0; i < 3; ++i) {
    SweepJob j;
    j.index = i;
    j.kind = i == 0 ? SweepJob::Kind::source : SweepJob::Kind::run;
    j.hash = j.source_hash = hex_hash(0);
    if (i > 0) j.hash = hex_hash(i), j.needs = {0};
    plan.jobs.push_back(j);
  }
  const auto refused = [&](SweepPlan edited, const std::string& expected) {
    atomic_write(dir + "/plan.json", edited.to_json());
    const std::string message = user_error_of([&] { read_sweep_plan(dir); });
    EXPECT_NE(message.find(expected), std::string::npos) << message;
    EXPECT_EQ(gda(fmt::format("job {} --index 2", dir), root + "/job.txt"), 2) << read_text(root + "/job.txt");
    EXPECT_EQ(read_text(root + "/a/victim.txt"), "mine");
    EXPECT_EQ(read_text(root + "/a/victim.partial"), "mine too");
    EXPECT_FALSE(fs::exists(root + "/a/victim.lock"));
    EXPECT_FALSE(fs::exists(dir + "/locks"));
  };
  SweepPlan bad = plan;
  bad.jobs[2].hash = "../../victim";
  refused(bad, "job 2 has the hash \"../../victim\", not 16 hex digits");
  bad = plan;
  bad.jobs[2].source_hash = "../x";
  refused(bad, "job 2 has the hash \"../x\"");
  bad = plan;
  bad.jobs[1].hash = "ABCDEF0123456789";  // gda writes lowercase
  refused(bad, "not 16 hex digits");
  bad = plan;
  bad.jobs[2].needs = {7};
  refused(bad, "job 2 needs job 7, not in the plan");
  bad = plan;
  bad.jobs[1].index = 5;
  refused(bad, "job 1 has the index 5");
}

// 3. --out a folder of the user's: refused, nothing written into it.
TEST(HostileInput, SweepIntoAFolderOfTheUsersIsRefused) {
  const auto dir = temp_dir("hostile-sweep-out");
  atomic_write(dir + "/c.toml", tiny_config(1));
  atomic_write(dir + "/sweep.toml", "base = \"c.toml\"\n[grid]\nseed = [0]\n");
  fs::create_directories(dir + "/mine");
  atomic_write(dir + "/mine/notes.txt", "notes");
  atomic_write(dir + "/mine/report.json", "{\"mine\": true}");
  EXPECT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {0}/mine", dir), dir + "/out.txt"), 2);
  EXPECT_NE(read_text(dir + "/out.txt").find("is not empty and is not a sweep folder (it holds no plan.json"),
            std::string::npos) << read_text(dir + "/out.txt");
  EXPECT_EQ(read_text(dir + "/mine/report.json"), "{\"mine\": true}");
  EXPECT_FALSE(fs::exists(dir + "/mine/plan.json"));
  EXPECT_FALSE(fs::exists(dir + "/mine/sweep.lock"));
  // A plan.json that is not gda's does not make the folder a sweep's either.
  atomic_write(dir + "/mine/plan.json", "{\"my\": \"plan\"}");
  EXPECT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {0}/mine", dir), dir + "/out.txt"), 2);
  EXPECT_NE(read_text(dir + "/out.txt").find("its plan.json is not one gda wrote"), std::string::npos)
      << read_text(dir + "/out.txt");
  EXPECT_EQ(read_text(dir + "/mine/plan.json"), "{\"my\": \"plan\"}");
}

// 4. One writer per run folder; a sweep's run folders are the sweep's.
TEST(HostileInput, ASecondWriterOfARunFolderIsRefused) {
  const auto dir = temp_dir("hostile-two-writers");
  const RunRecorder first(dir + "/run", nullptr);
  const std::string message = user_error_of([&] { RunRecorder second(dir + "/run", nullptr); });
  EXPECT_NE(message.find("the run directory " + dir + "/run is in use by another process (pid "), std::string::npos)
      << message;
}

TEST(HostileInput, GdaRunIntoASweepFolderIsRefused) {
  const auto dir = temp_dir("hostile-run-in-sweep");
  atomic_write(dir + "/c.toml", tiny_config(1));
  fs::create_directories(dir + "/sweep/runs/" + hex_hash(1));
  atomic_write(dir + "/sweep/plan.json", "{}");
  atomic_write(dir + "/sweep/sweep.lock", "");
  atomic_write(dir + "/sweep/runs/" + hex_hash(1) + "/summary.json", "theirs");
  EXPECT_EQ(gda(fmt::format("run {0}/c.toml --out {0}/sweep/runs/{1}", dir, hex_hash(1)), dir + "/out.txt"), 2);
  EXPECT_NE(read_text(dir + "/out.txt").find("is inside the sweep folder " + dir + "/sweep"), std::string::npos)
      << read_text(dir + "/out.txt");
  EXPECT_EQ(read_text(dir + "/sweep/runs/" + hex_hash(1) + "/summary.json"), "theirs");
  EXPECT_EQ(sweep_folder_around(dir + "/sweep/runs/x/../y"), dir + "/sweep");
  EXPECT_EQ(sweep_folder_around(dir + "/elsewhere"), "");
}

TEST(HostileInput, AFolderHoldingOnlyAUsersLogIsNotAnEarlierRun) {
  const auto dir = temp_dir("hostile-log-only");
  fs::create_directories(dir + "/out");
  atomic_write(dir + "/out/log.txt", "my own notes");
  const std::string message = user_error_of([&] { RunRecorder r(dir + "/out", nullptr); });
  EXPECT_NE(message.find("is not empty and holds no earlier run (it has log.txt)"), std::string::npos) << message;
  EXPECT_EQ(read_text(dir + "/out/log.txt"), "my own notes");
}

// 5 and 11. A full disk (here a file-size limit, as a full disk fails a write) while the
// source model is saved: a clear error, exit 2, no partial model, no leftover; the resume
// after space comes back finishes the sweep.
TEST(HostileInput, AFullDiskWhileTheSourceModelIsSavedIsAClearErrorAndResumes) {
  if (!on_path("bash")) GTEST_SKIP();
  const auto dir = temp_dir("hostile-full-disk");
  atomic_write(dir + "/c.toml", tiny_config(1));
  atomic_write(dir + "/sweep.toml", "base = \"c.toml\"\n[grid]\nseed = [0]\n");
  // 40 KiB: the plan, configs and logs fit, the model (~60 KB) does not. SIGXFSZ ignored: the
  // write fails with EFBIG as it would with ENOSPC.
  const std::string limited = fmt::format("bash -c \"trap '' XFSZ; ulimit -f 40; exec {} sweep {}/sweep.toml --out "
                                          "{}/s --jobs 1\"", GDA_BINARY, dir, dir);
  const int status = std::system(fmt::format("{} > {}/full.txt 2>&1", limited, dir).c_str());
  const std::string log = read_text(dir + "/full.txt");
  EXPECT_EQ(WEXITSTATUS(status), 2) << log;
  // The source job's own message, in the run's error the report lists.
  EXPECT_NE(log.find("cannot write " + dir + "/s/sources/"), std::string::npos) << log;
  EXPECT_NE(log.find("model.pt (disk full?)"), std::string::npos) << log;
  for (const auto& e : fs::recursive_directory_iterator(dir + "/s")) {
    EXPECT_NE(e.path().filename(), "model.pt") << e.path();
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  }
  EXPECT_EQ(gda(fmt::format("sweep {0}/sweep.toml --out {0}/s --jobs 1", dir), dir + "/resume.txt"), 0)
      << read_text(dir + "/resume.txt");
}

// 7. Non-finite or out-of-float32 features are the file's mistake, named with row and column.
TEST(HostileInput, NonFiniteCsvFeaturesAreAnInputMistake) {
  const auto dir = temp_dir("hostile-csv-nan");
  const auto message_for = [&](const std::string& value) {
    atomic_write(dir + "/t.csv", "a,b,label\n1,2,0\n3," + value + ",1\n5,6,0\n");
    Params p = Params::defaults(dataset_registry().get("csv").params);
    p.set("path", "t.csv");
    return user_error_of([&] { dataset_registry().get("csv").make(p, {dir, dir}); });
  };
  for (const std::string v : {"nan", "inf", "-inf", "1e39", "NaN"}) {
    const std::string m = message_for(v);
    EXPECT_NE(m.find("t.csv:3: column \"b\" is \"" + v + "\", not a finite number within float32's range"),
              std::string::npos) << m;
  }
  EXPECT_NE(message_for("1e400").find("not a finite number"), std::string::npos);
  EXPECT_NE(message_for("abc").find("is \"abc\", not a number"), std::string::npos);
  EXPECT_EQ(message_for("3.4e38"), "no error");
}

// 8 and 12. Labels that would make a model of 2^31 classes, one class, a stray "1.0", an empty label.
TEST(HostileInput, CsvLabelsThatCannotBeClassesAreRefused) {
  const auto dir = temp_dir("hostile-csv-labels");
  const auto message_for = [&](const std::string& body) {
    atomic_write(dir + "/t.csv", "a,label\n" + body);
    Params p = Params::defaults(dataset_registry().get("csv").params);
    p.set("path", "t.csv");
    return user_error_of([&] { dataset_registry().get("csv").make(p, {dir, dir}); });
  };
  std::string m = message_for("1,0\n2,2147483647\n");
  EXPECT_NE(m.find("t.csv:3: the label 2147483647 is outside 0 … 99999"), std::string::npos) << m;
  m = message_for("1,3\n2,3\n3,3\n");
  EXPECT_NE(m.find("every row has the label \"3\"; adaptation needs at least 2 classes"), std::string::npos) << m;
  m = message_for("1,0\n2,1\n3,2\n4,1.0\n");
  EXPECT_NE(m.find("t.csv:5: the label \"1.0\" is not an integer, but the label of line 2 is (\"0\")"),
            std::string::npos) << m;
  m = message_for("1,0\n2,\n3,1\n");
  EXPECT_NE(m.find("t.csv:3: the label (column \"label\") is empty"), std::string::npos) << m;
  EXPECT_EQ(message_for("1,cat\n2,dog\n"), "no error");
}

// 8. Sizes that would allocate without end, bounded by the validator with the key named.
TEST(HostileInput, HugeSizesAreRefusedByTheValidator) {
  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {"[model]\nname = \"cnn\"\nchannels = 2147483648\n", "model.channels must be >= 1 and <= 4096 (got 2147483648)"},
           {"[model]\nname = \"cnn\"\nhidden = 1073741824\n", "model.hidden must be >= 1 and <= 65536 (got 1073741824)"},
           {"[model]\nname = \"mlp\"\nhidden = 1073741824\n", "model.hidden must be >= 1 and <= 65536 (got 1073741824)"},
           {"[data]\nname = \"synthetic\"\nside = 100000\n", "data.side must be >= 4 and <= 1024 (got 100000)"},
           {"[data]\nname = \"image_folder\"\nside = 100000\n", "data.side must be >= 4 and <= 1024 (got 100000)"}}) {
    const std::string m = user_error_of([&] { parse_config(text, "t.toml"); });
    EXPECT_NE(m.find(expected), std::string::npos) << text << m;
  }
}

/// A PNG file of a header alone that says width x height (what OpenCV reads first).
std::string png_header(std::uint32_t width, std::uint32_t height) {
  auto be32 = [](std::uint32_t v) {
    return std::string{char(v >> 24), char(v >> 16 & 0xff), char(v >> 8 & 0xff), char(v & 0xff)};
  };
  std::string ihdr = "IHDR" + be32(width) + be32(height) + std::string{8, 0, 0, 0, 0};  // 8-bit grey
  auto chunk = [&](const std::string& type_and_data) {
    const auto crc = std::uint32_t(crc32(0, reinterpret_cast<const Bytef*>(type_and_data.data()),
                                         uInt(type_and_data.size())));
    return be32(std::uint32_t(type_and_data.size() - 4)) + type_and_data + be32(crc);
  };
  // libpng reads the chunks up to the first IDAT before OpenCV checks the size.
  return std::string("\x89PNG\r\n\x1a\n", 8) + chunk(ihdr) + chunk("IDAT") + chunk("IEND");
}

TEST(HostileInput, AnImagePastOpenCvsPixelLimitIsNamed) {
  const auto dir = temp_dir("hostile-png");
  for (const char* c : {"a", "b"}) fs::create_directories(dir + "/images/" + c);
  atomic_write(dir + "/images/a/huge.png", png_header(40000, 40000));
  atomic_write(dir + "/images/b/huge.png", png_header(40000, 40000));
  Params p = Params::defaults(dataset_registry().get("image_folder").params);
  p.set("path", "images");
  const std::string m = user_error_of([&] { dataset_registry().get("image_folder").make(p, {dir, dir}); });
  EXPECT_NE(m.find(dir + "/images/a/huge.png: OpenCV cannot read it"), std::string::npos) << m;
}

// 8. A FIFO (it would block) or /dev/zero (it never ends) as a config, sweep or digit file.
TEST(HostileInput, PipesAndDevicesAreNotInputFiles) {
  const auto dir = temp_dir("hostile-fifo");
  ASSERT_EQ(::mkfifo((dir + "/fifo.toml").c_str(), 0600), 0);
  for (const std::string path : {dir + "/fifo.toml", std::string("/dev/zero")}) {
    std::string m = user_error_of([&] { load_config(path); });
    EXPECT_NE(m.find("config file " + path + " is not a regular file"), std::string::npos) << m;
    m = user_error_of([&] { plan_sweep(path, 1); });
    EXPECT_NE(m.find("sweep file " + path + " is not a regular file"), std::string::npos) << m;
  }
  fs::create_directories(dir + "/digits");
  ASSERT_EQ(::mkfifo((dir + "/digits/0.json").c_str(), 0600), 0);
  Params p = Params::defaults(dataset_registry().get("mnist").params);
  p.set("path", "digits");
  const std::string m = user_error_of([&] { dataset_registry().get("mnist").make(p, {dir, dir}); });
  EXPECT_NE(m.find("MNIST digit file " + dir + "/digits/0.json is not a regular file"), std::string::npos) << m;
  // Larger than any config: refused, not parsed.
  atomic_write(dir + "/big.toml", std::string(kMaxInputFileBytes + 1, '#'));
  EXPECT_NE(user_error_of([&] { load_config(dir + "/big.toml"); }).find("more than the"), std::string::npos);
}

// 10. A source folder whose model a clean-up deleted, or whose model is damaged, is trained again.
TEST(HostileInput, AMissingOrDamagedSourceModelIsTrainedAgain) {
  const auto dir = temp_dir("hostile-source");
  atomic_write(dir + "/c.toml", tiny_config(1));
  atomic_write(dir + "/sweep.toml", "base = \"c.toml\"\n[grid]\nseed = [0]\n");
  const std::string sweep = fmt::format("sweep {0}/sweep.toml --out {0}/s --jobs 1", dir);
  ASSERT_EQ(gda(sweep, dir + "/1.txt"), 0) << read_text(dir + "/1.txt");
  const SweepPlan plan = read_sweep_plan(dir + "/s");
  const std::string source = dir + "/s/" + plan.jobs[0].dir_name(), run = dir + "/s/" + plan.jobs[1].dir_name();
  ASSERT_TRUE(fs::exists(source + "/model.pt"));
  // Deleted by a clean-up: the resume trains it again, then runs the run.
  fs::remove(source + "/model.pt");
  fs::remove_all(run);
  EXPECT_FALSE(job_finished(dir + "/s", plan.jobs[0]));
  EXPECT_EQ(gda(sweep, dir + "/2.txt"), 0) << read_text(dir + "/2.txt");
  EXPECT_TRUE(fs::exists(source + "/model.pt"));
  EXPECT_TRUE(fs::exists(run + "/summary.json"));
  // Damaged: the run that meets it says so and removes it; the next resume trains it again.
  atomic_write(source + "/model.pt", "not an archive");
  fs::remove_all(run);
  EXPECT_EQ(gda(sweep, dir + "/3.txt"), 2) << read_text(dir + "/3.txt");
  EXPECT_NE(read_text(dir + "/3.txt").find("it cannot be read"), std::string::npos) << read_text(dir + "/3.txt");
  EXPECT_EQ(gda(sweep, dir + "/4.txt"), 0) << read_text(dir + "/4.txt");
  EXPECT_TRUE(fs::exists(run + "/summary.json"));
}

// 11. Failed writes leave nothing behind, and leftovers of earlier ones are cleared.
TEST(HostileInput, FailedWritesLeaveNoTemporaryFiles) {
  const auto dir = temp_dir("hostile-tmp");
  fs::create_directories(dir + "/in_the_way/x");  // rename onto a non-empty folder fails
  EXPECT_NE(user_error_of([&] { atomic_write(dir + "/in_the_way", "x"); }), "no error");
  for (const auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
  fs::create_directories(dir + "/run");
  atomic_write(dir + "/run/config.resolved.toml", "");
  atomic_write(dir + "/run/table.md.tmp.12345", "left by a failed write");
  { const RunRecorder again(dir + "/run", nullptr); }
  EXPECT_FALSE(fs::exists(dir + "/run/table.md.tmp.12345"));
}

TEST(HostileInput, AHugeComponentNameIsCutInTheMessage) {
  const std::string huge(5'000'000, 'x');
  const std::string m = user_error_of([&] { parse_config("[model]\nname = \"" + huge + "\"\n", "t.toml"); });
  EXPECT_NE(m.find("model.name: unknown name"), std::string::npos) << m.substr(0, 300);
  EXPECT_LT(m.size(), 1000u);
}

// 12. What passed without a word.
TEST(HostileInput, ASecondKeyInsideASetValueIsRefused) {
  const auto dir = temp_dir("hostile-set");
  atomic_write(dir + "/c.toml", tiny_config(1));
  const std::string m = user_error_of([&] { load_config(dir + "/c.toml", {"optimizer.lr=0.5\nseed = 99"}); });
  EXPECT_NE(m.find("the value holds more than one TOML value"), std::string::npos) << m;
}

TEST(HostileInput, SeedsPastTheLargestIntegerAreRefusedNotClamped) {
  const auto dir = temp_dir("hostile-seed");
  atomic_write(dir + "/c.toml", tiny_config(1));
  for (const std::string seed : {"9223372036854775808", "18446744073709551616", "-1", "1e3"}) {
    EXPECT_EQ(gda(fmt::format("run {0}/c.toml --seed {1} --out {0}/r", dir, seed), dir + "/s.txt"), 2) << seed;
    EXPECT_NE(read_text(dir + "/s.txt").find("give a whole number from 0 to 9223372036854775807"), std::string::npos)
        << read_text(dir + "/s.txt");
  }
  EXPECT_FALSE(fs::exists(dir + "/r"));
}

TEST(HostileInput, AnalysisStagesPastTheLastStageAreSaid) {
  const auto dir = temp_dir("hostile-analysis-stages");
  const std::string cfg = tiny_config(1) +
                          "\n[analysis]\nstages = [0, 9]\nsamples = 8\nsharpness = [\"worst_case\"]\nascent_steps = 1\n";
  const auto s = run_experiment(parse_config(cfg, "t.toml"), {dir + "/run", nullptr});
  ASSERT_EQ(s.status, RunStatus::ok) << s.error;
  EXPECT_NE(read_text(dir + "/run/log.txt").find("note: analysis.stages names stage 9, but this run's last stage is 2"),
            std::string::npos) << read_text(dir + "/run/log.txt");
}

TEST(HostileInput, ATrailingBlankLineInStagesIsNotDamage) {
  const auto dir = temp_dir("hostile-blank-line");
  SweepPlan plan;
  plan.sweep_file = dir + "/sweep.toml";
  plan.base_config = dir + "/base.toml";
  plan.axes = {"seed"};
  SweepJob j;
  j.hash = j.source_hash = hex_hash(0);
  j.point = {{"seed", "0"}};
  plan.jobs.push_back(j);
  atomic_write(dir + "/plan.json", plan.to_json());
  write_result(dir, j.hash, 0.5);
  const std::string stages = dir + "/runs/" + j.hash + "/stages.jsonl";
  atomic_write(stages, read_text(stages) + "\n");
  const SweepReport r = collect_report(dir);
  EXPECT_EQ(r.ok, 1);
  EXPECT_EQ(r.errors, 0);
  // A folder the report cannot be written in: the report is still printed, and says so.
  fs::create_directories(dir + "/report.md/in_the_way");
  const std::string md = write_report(dir, r);
  EXPECT_NE(md.find("| 1/1 | 50.0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("The report's files could not be written in " + dir), std::string::npos) << md;
}

// 13. A plugin that throws what is not a std::exception.
TEST(HostileInput, APluginThrowingAnIntIsNamed) {
  if (!on_path("c++")) GTEST_SKIP() << "no C++ compiler on PATH";
  const auto dir = temp_dir("hostile-plugin");
  atomic_write(dir + "/throws.cpp", "extern \"C\" void gda_register_plugin() { throw 42; }\n");
  ASSERT_EQ(std::system(fmt::format("c++ -shared -fPIC -o {0}/libthrows.so {0}/throws.cpp", dir).c_str()), 0);
  const std::string m = user_error_of([&] { parse_config("plugins = [\"" + dir + "/libthrows.so\"]\n", "t.toml"); });
  EXPECT_NE(m.find("plugin " + dir + "/libthrows.so: its gda_register_plugin threw something that is not a "
                   "std::exception"), std::string::npos) << m;
}

// 14. The npm package's digits: 10,000, as the docs now say.
TEST(HostileInput, TheMnistPackageHoldsTenThousandDigits) {
  const std::string digits = default_data_dir() + "/package/src/digits";
  if (!fs::exists(digits + "/9.json")) GTEST_SKIP() << "the MNIST digits are not installed (tools/setup.sh)";
  Params p = Params::defaults(dataset_registry().get("mnist").params);
  const Dataset d = dataset_registry().get("mnist").make(p, {".", default_data_dir()});
  EXPECT_EQ(d.size(), 10000);
  EXPECT_NE(dataset_registry().get("mnist").summary.find("10,000 digits"), std::string::npos);
}

}  // namespace
}  // namespace gda::test
