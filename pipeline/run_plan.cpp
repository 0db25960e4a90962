// Making a run's plan (pipeline/run_plan.h): everything a run decides before its graph runs.
#include "pipeline/run_plan.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <unistd.h>

#include <algorithm>
#include <future>
#include <opencv2/core/utility.hpp>

#include "core/device.h"
#include "core/error.h"
#include "core/stopwatch.h"
#include "core/threads.h"
#include "pipeline/config_schema.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

DataSplit split_data(const Dataset& all, const Params& data, std::uint64_t seed) {
  const std::int64_t ns = data.integer("source_size"), ni = data.integer("intermediate_size"),
                     nt = data.integer("target_size");
  if (ns + ni + nt > all.size())
    throw UserError(fmt::format(
        "data.source_size + data.intermediate_size + data.target_size = {} exceeds the {} examples of "
        "dataset \"{}\"; lower them", ns + ni + nt, all.size(), data.text("name")));
  Dataset shuffled = all;
  if (data.flag("shuffle")) {
    Rng rng(derive_seed(seed, "data/shuffle"));
    auto order = permutation(all.size(), rng);
    shuffled = all.select(torch::from_blob(order.data(), {all.size()}, torch::kInt64).clone());
  }
  const std::int64_t n = all.size();
  // Source first, intermediates next, target last (as the reference experiment cuts it).
  return {shuffled.slice(0, ns), shuffled.slice(ns, ns + ni), shuffled.slice(n - nt, n)};
}

/// The optimizer section source training uses (see [source] optimizer in docs/CONFIG.md).
Params source_optimizer(const Params& source, const Params& optimizer) {
  const std::string& name = source.text("optimizer");
  if (name == "same") return optimizer;
  Params p = Params::defaults(optimizer_keys(name, name));
  p.set("name", name);
  p.set("base", name);
  p.set("lr", source.real("lr"));
  p.set("weight_decay", source.real("weight_decay"));
  return p;
}

InputShape shape_of(const Dataset& d) {
  InputShape s;
  for (std::int64_t i = 1; i < d.x.dim(); ++i) s.sample.push_back(d.x.size(i));
  s.classes = d.y.max().item<std::int64_t>() + 1;
  return s;
}

/// This machine's name, for the summary ("" when it has none).
std::string host_name() {
  char name[256] = {};
  return ::gethostname(name, sizeof name - 1) == 0 ? name : "";
}

/// The summary's first fields, known before anything trains.
RunSummary run_header(const Config& c, const c10::Device& device) {
  const Params& top = c.section("");
  RunSummary h;
  h.device = describe_device(device);
  h.host = host_name();
  h.started = utc_now_iso();
  h.seed = top.integer("seed");
  h.config_hash = c.hash();
  h.threads = int(top.integer("threads"));
  // Training gets every thread; evaluation overlaps it with one, as more would only
  // oversubscribe the cores that training already uses.
  h.train_threads = h.threads;
  h.eval_threads = 1;
  return h;
}

/// The resolved config (first: it marks the folder as gda's, even if the device is refused
/// next), determinism and the device, and the header in the log.
void start_run(const Config& c, RunRecorder& rec, RunPlan& p) {
  rec.write_config(c.to_toml());
  const Params& top = c.section("");
  set_deterministic(top.flag("deterministic"));  // before the device's first work
  set_tf32(top.flag("tf32"));
  p.device = resolve_device(top.text("device"));
  p.header = run_header(c, p.device);
  const RunSummary& h = p.header;
  rec.log(fmt::format("gda run: {} seed {} → {}", c.file.empty() ? "(text)" : c.file, p.seed, rec.dir()));
  rec.log(fmt::format("threads: {} (training {} LibTorch intra-op; evaluation {} intra-op, overlapping; "
                      "TBB arena {})", h.threads, h.train_threads, h.eval_threads, arena_slots(h.threads)));
  rec.log("device: " + h.device);
}

/// Stage settings of source training and of self-training, and what evaluation and
/// analysis measure.
void read_settings(const Config& c, RunPlan& p) {
  const Params& src = c.section("source");
  const Params& adapt = c.section("adaptation");
  const Params& eval = c.section("evaluation");
  p.source.epochs = int(src.integer("epochs"));
  p.source.batch_size = int(src.integer("batch_size"));
  p.source.optimizer = source_optimizer(src, c.section("optimizer"));
  p.stages.epochs = int(adapt.integer("epochs"));
  p.stages.batch_size = int(adapt.integer("batch_size"));
  p.stages.drop_fraction = adapt.real("drop_fraction");
  p.stages.optimizer = c.section("optimizer");
  p.stages.student = student_choice().of(adapt, "student");
  p.stages.confidence = confidence_choice().of(adapt, "confidence");
  p.schedule = schedule_choice().of(adapt, "schedule");
  p.rounds = int(adapt.integer("rounds"));
  // Pseudo-labelling and encoding during training infer in evaluation's batches.
  p.stages.inference_batch = p.source.inference_batch = eval.integer("batch_size");
  p.evaluation.all_domains = evaluated_domains_choice().of(eval, "domains") == EvaluatedDomains::all;
  p.evaluation.batch_size = eval.integer("batch_size");
  p.analysis = AnalysisSettings::from(c.section("analysis"));
}

/// Threads and seeds, then the data cut into source, pool and target, the generator's
/// domain jobs and the initial model.
void prepare_data_and_model(const Config& c, RunPlan& p) {
  set_default_intra_op_threads(p.header.threads);
  cv::setNumThreads(1);  // images are rotated in parallel by TBB, one per task
  torch::manual_seed(p.seed);
  // CUDA's start-up overlaps reading and splitting the data.
  auto cuda_started = std::async(std::launch::async, [device = p.device] { warm_up(device); });
  LoadContext load{c.dir, default_data_dir()};
  const Params& data = c.section("data");
  Dataset all = dataset_registry().get(data.text("name")).make(data, load);
  DataSplit split = split_data(all, data, p.seed);
  const Params& shift = c.section("shift");
  p.generator = generator_registry().get(shift.text("generator")).make(shift);
  p.jobs = p.generator->plan(split, shift.integer("T"), p.seed);
  if (!p.jobs.empty()) p.header.target_domain = p.jobs.back().name;
  p.model = make_model(c.section("model").text("name"), c.section("model"), shape_of(all));
  cuda_started.get();
  p.model->to(p.device);  // initialised on the CPU's stream, so every device starts from the same weights
}

}  // namespace

int arena_slots(int threads) { return std::max(2, threads); }

RunPlan plan_run(const Config& config, const RunOptions& options, RunRecorder& recorder) {
  RunPlan p;
  p.seed = std::uint64_t(config.section("").integer("seed"));
  p.dir = recorder.dir();
  p.source_dir = options.source_dir;
  p.source_only = options.source_only;
  start_run(config, recorder, p);
  prepare_data_and_model(config, p);
  read_settings(config, p);
  if (p.stages.student == Student::keep_training && p.generator->makes_segments())
    throw UserError(fmt::format("adaptation.student = \"continue\" trains one model in place, but generator \"{}\" "
                                "trains copies through the domains it makes; use student = \"copy\" or "
                                "\"fresh_each_epoch\"", config.section("shift").text("generator")));
  return p;
}

}  // namespace gda
