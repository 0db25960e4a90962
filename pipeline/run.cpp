// One run as a TBB flow graph (docs/ARCHITECTURE.md):
//
//   domain jobs ─▶ generate (unlimited) ─▶ all_generated (serial gate)
//        ─▶ adapt (serial: source training, then each stage in order; emits a snapshot
//                  of the model after every stage)
//        ─▶ evaluate (unlimited: accuracy of a snapshot on the domains)
//        ─▶ in_stage_order (sequencer) ─▶ record (serial: files and console)
//
// Evaluation of stage k runs on its snapshot while stage k+1 trains. The steps below are
// named after the diagram: prepare_run (data, domain jobs, model), then the nodes'
// bodies (make_domain, adapt, evaluate, record), then finish_run.
#include "pipeline/run.h"

#include <fmt/format.h>
#include <tbb/flow_graph.h>
#include <tbb/global_control.h>
#include <tbb/task_arena.h>
#include <torch/torch.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <future>
#include <mutex>
#include <opencv2/core/utility.hpp>

#include "core/device.h"
#include "core/error.h"
#include "core/files.h"
#include "core/stopwatch.h"
#include "core/threads.h"
#include "pipeline/source_model.h"
#include "stages/analysis/analysis.h"
#include "stages/eval/evaluator.h"
#include "stages/optim/optimizer.h"
#include "stages/shift/generator.h"
#include "stages/train/self_training.h"

namespace gda {
namespace {

/// The model after a stage, frozen for evaluation, with the stage's training facts; when
/// [analysis] selects the stage, a private copy to measure and what it is compared with.
struct Snapshot {
  ModelPtr model;
  StageRecord record;
  /// The copy [analysis] measures (null when the stage is not selected): the measurements
  /// move its weights, so it is the analysis's alone, while the frozen models below, which
  /// later stages read too, are only read.
  ModelPtr measured;
  ModelPtr teacher, source;  ///< the stage's teacher (the previous stage's model) and the source model
  AnalysisDomain trained;    ///< fixed inputs of the domain it trained on (none in feature space)
};

/// What the adapt node knows about a stage beside its model and record.
struct StageFacts {
  const Domain* trained_on = nullptr;  ///< its domain (null for a feature-space stage)
  bool last = false;                   ///< the last stage of the path
};

/// What is measured after every stage ([evaluation]).
struct EvaluationSettings {
  bool all_domains = true;  ///< every domain of the path; false: the target alone
  std::int64_t batch_size = 1000;
};

/// How adaptation ended when it did not end well: a value the adapt node returns, read once
/// the graph has ended.
struct RunFailure {
  RunStatus status = RunStatus::failed;
  std::string error;
};

/// The run's clocks, with one owner: the start, the parts one node each times (data, source,
/// adaptation), and the sums the concurrent evaluations add to.
class RunClocks {
 public:
  const Clock::time_point start = Clock::now();
  double data = 0, source = 0, adaptation = 0;

  void add_evaluation(double seconds) { add(evaluation_, seconds); }
  void add_analysis(double seconds) { add(analysis_, seconds); }
  /// Every part, and the total so far.
  Timings timings() const {
    return {data, source, adaptation, evaluation_.load(), analysis_.load(), seconds_since(start)};
  }

 private:
  static void add(std::atomic<double>& sum, double seconds) {
    for (double seen = sum.load(); !sum.compare_exchange_weak(seen, seen + seconds);) {
    }
  }
  std::atomic<double> evaluation_{0}, analysis_{0};
};

/// Everything one run holds while its graph runs.
struct RunState {
  RunState(const Config& c, const RunOptions& o)
      : config(c), options(o), seed(std::uint64_t(c.section("").integer("seed"))),
        rec(o.out_dir.empty() ? default_run_dir(c) : o.out_dir, o.console) {}

  const Config& config;
  const RunOptions& options;
  RunClocks clocks;
  const std::uint64_t seed;
  c10::Device device{c10::kCPU};  ///< where the model and the domains live
  RunSummary summary;
  RunRecorder rec;

  std::unique_ptr<ShiftGenerator> generator;
  std::vector<DomainJob> jobs;
  std::vector<Domain> domains;  ///< in path order: the source first, the target last
  ModelPtr model;
  StageSettings source_settings, stage_settings;
  EvaluationSettings evaluation;
  AnalysisSettings analysis;
  std::vector<AnalysisDomain> analysis_inputs;  ///< fixed source and target inputs, drawn once
  std::mutex analysis_mutex;
  std::vector<std::string> analysis_problems;   ///< measurements that failed (logged at the end)
  std::vector<std::string> notes;               ///< the adapt node's lines for the log, written at the end

};

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

/// At least two slots: the adapt node holds one for the whole adaptation, and evaluation
/// and recording need another, or with threads = 1 no stage would reach the disk (or the
/// console, or a sweep's progress line) before the last one had trained.
int arena_slots(int threads) { return std::max(2, threads); }

/// The run's header: seed, config hash, device and thread budgets, in the summary and the log.
void start_run(RunState& s) {
  // First: the resolved config marks the folder as gda's, even if the device is refused next.
  s.rec.write_config(s.config.to_toml());
  const Params& top = s.config.section("");
  set_deterministic(top.flag("deterministic"));  // before the device's first work
  set_tf32(top.flag("tf32"));
  s.device = resolve_device(top.text("device"));
  s.summary.device = describe_device(s.device);
  s.summary.host = host_name();
  s.summary.started = utc_now_iso();
  s.summary.seed = top.integer("seed");
  s.summary.config_hash = s.config.hash();
  s.summary.threads = int(top.integer("threads"));
  // Training gets every thread; evaluation overlaps it with one, as more would only
  // oversubscribe the cores that training already uses.
  s.summary.train_threads = s.summary.threads;
  s.summary.eval_threads = 1;
  s.rec.log(fmt::format("gda run: {} seed {} → {}", s.config.file.empty() ? "(text)" : s.config.file, s.seed,
                        s.rec.dir()));
  s.rec.log(fmt::format("threads: {} (training {} LibTorch intra-op; evaluation {} intra-op, overlapping; "
                        "TBB arena {})", s.summary.threads, s.summary.train_threads, s.summary.eval_threads,
                        arena_slots(s.summary.threads)));
  s.rec.log("device: " + s.summary.device);
}

/// Stage settings of source training and of self-training, and what evaluation measures.
void read_settings(RunState& s) {
  const Params& src = s.config.section("source");
  const Params& adapt = s.config.section("adaptation");
  const Params& eval = s.config.section("evaluation");
  s.source_settings.epochs = int(src.integer("epochs"));
  s.source_settings.batch_size = int(src.integer("batch_size"));
  s.source_settings.optimizer = source_optimizer(src, s.config.section("optimizer"));
  s.stage_settings.epochs = int(adapt.integer("epochs"));
  s.stage_settings.batch_size = int(adapt.integer("batch_size"));
  s.stage_settings.drop_fraction = adapt.real("drop_fraction");
  s.stage_settings.optimizer = s.config.section("optimizer");
  // Pseudo-labelling and encoding during training infer in evaluation's batches.
  s.stage_settings.inference_batch = s.source_settings.inference_batch = eval.integer("batch_size");
  s.evaluation.all_domains = eval.text("domains") == "all";
  s.evaluation.batch_size = eval.integer("batch_size");
  s.analysis = AnalysisSettings::from(s.config.section("analysis"));
}

/// `samples` rows of domain d (all when it has fewer), chosen by a stream of their own so
/// that the analysis draws nothing from the run's other streams.
AnalysisDomain analysis_rows(const RunState& s, const std::string& role, const Domain& d, bool labelled,
                             const std::string& purpose) {
  Rng rng(derive_seed(s.seed, "analysis/samples/" + purpose));
  auto order = permutation(d.size(), rng);
  order.resize(std::size_t(std::min<std::int64_t>(d.size(), s.analysis.samples)));
  const auto rows = torch::tensor(order, torch::kInt64).to(d.x.device());
  return {role, d.x.index_select(0, rows), labelled ? d.y.index_select(0, rows) : torch::Tensor()};
}

/// The fixed source and target inputs of [analysis], the same at every stage.
void choose_analysis_inputs(RunState& s) {
  if (!s.analysis.on()) return;
  s.analysis_inputs = {analysis_rows(s, "source", s.domains.front(), true, "source"),
                       analysis_rows(s, "target", s.domains.back(), true, "target")};
}

/// Threads and seeds, then the data cut into source, pool and target, the generator's
/// domain jobs and the initial model (whose weights draw from the seeded torch stream).
void prepare_run(RunState& s) {
  set_default_intra_op_threads(s.summary.threads);
  cv::setNumThreads(1);  // images are rotated in parallel by TBB, one per task
  torch::manual_seed(s.seed);
  // CUDA's start-up overlaps reading and splitting the data.
  auto cuda_started = std::async(std::launch::async, [device = s.device] { warm_up(device); });
  LoadContext load{s.config.dir, default_data_dir()};
  const Params& data = s.config.section("data");
  Dataset all = dataset_registry().get(data.text("name")).make(data, load);
  DataSplit split = split_data(all, data, s.seed);
  const Params& shift = s.config.section("shift");
  s.generator = generator_registry().get(shift.text("generator")).make(shift);
  s.jobs = s.generator->plan(split, shift.integer("T"), s.seed);
  s.domains.resize(s.jobs.size());
  if (!s.jobs.empty()) s.summary.target_domain = s.jobs.back().name;
  s.model = make_model(s.config.section("model").text("name"), s.config.section("model"), shape_of(all));
  cuda_started.get();
  s.model->to(s.device);  // initialised on the CPU's stream, so every device starts from the same weights
  read_settings(s);
}

/// Stage 0: the source model, loaded from options.source_dir when it holds one, else
/// trained (and saved there when a folder is given).
StageRecord source_stage(RunState& s) {
  const auto t0 = Clock::now();
  StageRecord r0;
  if (!s.options.source_dir.empty() && has_source_model(s.options.source_dir)) {
    r0 = load_source_model(s.options.source_dir, *s.model);
    s.summary.source_reused = true;
  } else {
    Rng rng(derive_seed(s.seed, "train/order"));
    r0 = train_on_source(*s.model, s.domains.front(), s.source_settings, rng);
    if (!s.options.source_dir.empty()) save_source_model(s.options.source_dir, *s.model, r0);
  }
  s.clocks.source = seconds_since(t0);
  return r0;
}

using Emit = std::function<void(const ModelPtr&, StageRecord, const StageFacts&)>;

/// The stages of the path after the source: 0 for a zero-shot plan of the source and the
/// target alone, unless the generator makes domains of its own in between (ot_path).
std::size_t path_length(const RunState& s) {
  const bool zero_shot = s.domains.size() <= 2 && !s.generator->makes_segments();
  return zero_shot ? 0 : s.domains.size() - 1;
}

/// A segment's files into the run folder, and its order's τ into the log.
void keep_segment_files(RunState& s, const PathSegment& segment) {
  for (const auto& [name, text] : segment.files) atomic_write(s.rec.dir() + "/" + name, text);
  if (segment.order_tau)  // logged at the end: the record node writes the log meanwhile
    s.notes.push_back(fmt::format("discovered order: Kendall's tau {:.3f} against the true domains ({:.1f} s)",
                                  *segment.order_tau, segment.seconds));
}

/// Stages 1…: self-training through the path, each stage's model handed to `emit`.
void adapt_along_path(RunState& s, const Emit& emit) {
  // Adaptation draws from its own streams, so its numbers are the same whether the
  // source model was trained just now or loaded (a sweep shares it between runs).
  Rng rng(derive_seed(s.seed, "train/adapt"));
  torch::manual_seed(derive_seed(s.seed, "torch/adapt"));
  const auto t0 = Clock::now();
  const std::size_t stages = path_length(s) + 1;
  auto teacher = s.model;
  int stage = 0;
  const Emit numbered = [&](const ModelPtr& m, StageRecord r, const StageFacts& facts) {
    r.stage = ++stage;
    emit(m, std::move(r), facts);
  };
  for (std::size_t k = 1; k < stages; ++k) {
    // Isolated: while the generator's parallel loops run, this thread must not pick up an
    // evaluation task, which would pin it to the evaluation's thread count.
    std::optional<PathSegment> segment;
    tbb::this_task_arena::isolate([&] {
      segment = s.generator->segment(*teacher, s.domains[k - 1], s.domains[k], s.stage_settings.inference_batch,
                                     derive_seed(s.seed, "shift/segment" + std::to_string(k)));
    });
    const bool last_segment = k + 1 == stages;
    if (segment) {
      for (auto& d : segment->domains) d = d.to(s.device);  // a plugin's may come on the CPU
      keep_segment_files(s, *segment);
      std::size_t j = 0;
      teacher = self_train_segment(*segment, teacher, s.model, s.stage_settings, rng,
                                   [&](const ModelPtr& m, StageRecord r) {
                                     r.order_tau = segment->order_tau;
                                     const std::size_t at = j++;
                                     const Domain* d = segment->features ? nullptr : &segment->domains[at];
                                     numbered(m, std::move(r), {d, last_segment && j == segment->domains.size()});
                                   });
      continue;
    }
    StageRecord r;
    const torch::Tensor next_x = k + 1 < stages ? s.domains[k + 1].x : torch::Tensor();
    teacher = self_train(*teacher, *s.model, s.domains[k], next_x, s.stage_settings, rng, r);
    numbered(teacher, std::move(r), {&s.domains[k], last_segment});
  }
  s.clocks.adaptation = seconds_since(t0);
}

/// The adapt node: the source stage, then the path. A mistake in the input that shows only
/// now (an OT plan that cannot be solved) ends the run with status "error", a numerical
/// failure with "failed": returned, and every stage emitted before stays recorded.
std::optional<RunFailure> adapt(RunState& s, const Emit& emit) {
  use_intra_op_threads(s.summary.train_threads);
  try {
    StageRecord r0 = source_stage(s);
    if (s.options.source_only) return std::nullopt;
    emit(s.model, std::move(r0), {&s.domains.front(), path_length(s) == 0});
    adapt_along_path(s, emit);
    return std::nullopt;
  } catch (const NumericError& e) {
    return RunFailure{RunStatus::failed, e.what()};
  } catch (const UserError& e) {
    return RunFailure{RunStatus::error, e.what()};
  }
}

/// [analysis] of a snapshot the settings select, into its record, on the snapshot's private
/// copy: analyses of different stages may overlap. A measurement that fails (LibTorch
/// refusing a double backward, say) loses that stage's measurements only; the run's log
/// names it at the end.
void analyse(RunState& s, Snapshot& snapshot) {
  std::vector<AnalysisDomain> inputs;
  if (snapshot.trained.x.defined()) inputs.push_back(snapshot.trained);
  inputs.insert(inputs.end(), s.analysis_inputs.begin(), s.analysis_inputs.end());
  const int stage = snapshot.record.stage;
  const auto t0 = Clock::now();
  try {
    snapshot.record.analysis =
        analyse_stage(s.analysis, {snapshot.measured, snapshot.teacher, snapshot.source}, inputs,
                      s.evaluation.batch_size, derive_seed(s.seed, "analysis/stage" + std::to_string(stage)));
  } catch (const std::exception& e) {
    std::lock_guard<std::mutex> lock(s.analysis_mutex);
    s.analysis_problems.push_back(fmt::format("stage {}: {}", stage, e.what()));
  }
  snapshot.record.analysis_seconds = seconds_since(t0);
  s.clocks.add_analysis(snapshot.record.analysis_seconds);
}

/// The evaluate node: accuracy of a frozen snapshot on every domain, or on the target
/// alone (the last domain of the path).
StageRecord evaluate(RunState& s, Snapshot snapshot) {
  // Every time, not once per thread: this TBB worker may have run another run's adapt node
  // (with the training's thread count) since, and the count would leak into the measurements.
  use_intra_op_threads(s.summary.eval_threads);
  const auto t0 = Clock::now();
  for (std::size_t i = 0; i < s.domains.size(); ++i) {
    const Domain& d = s.domains[i];
    if (!s.evaluation.all_domains && i + 1 != s.domains.size()) continue;
    snapshot.record.accuracies.push_back(
        {d.name, d.position, accuracy(*snapshot.model, d.x, d.y, s.evaluation.batch_size)});
  }
  snapshot.record.eval_seconds = seconds_since(t0);
  s.clocks.add_evaluation(snapshot.record.eval_seconds);
  if (snapshot.measured) analyse(s, snapshot);
  return snapshot.record;
}

/// The graph of the diagram above, run to its end in the run's TBB arena; how adaptation
/// failed, if it did.
std::optional<RunFailure> run_graph(RunState& s) {
  namespace flow = tbb::flow;
  flow::graph g;
  flow::function_node<std::size_t, std::size_t> generate(g, flow::unlimited, [&](std::size_t i) {
    s.domains[i] = s.jobs[i].make();
    return i;
  });
  using Gate = flow::multifunction_node<std::size_t, std::tuple<flow::continue_msg>>;
  std::size_t arrived = 0;
  Gate all_generated(g, flow::serial, [&](std::size_t, Gate::output_ports_type& out) {
    if (++arrived < s.jobs.size()) return;
    // Made on the CPU (OpenCV, the OT solvers); uploaded once, here, for every stage to use.
    for (auto& d : s.domains) d = d.to(s.device);
    choose_analysis_inputs(s);
    s.clocks.data = seconds_since(s.clocks.start);
    std::get<0>(out).try_put(flow::continue_msg());
  });
  using Adapt = flow::multifunction_node<flow::continue_msg, std::tuple<Snapshot>>;
  // The frozen models of the stage before and of stage 0, for [analysis].
  ModelPtr previous, source;
  std::optional<RunFailure> failure;  // the adapt node's, read after wait_for_all
  Adapt adapt_stages(g, flow::serial, [&](flow::continue_msg, Adapt::output_ports_type& out) {
    failure = adapt(s, [&](const ModelPtr& m, StageRecord r, const StageFacts& facts) {
      auto frozen = m->clone_model();
      frozen->eval();
      Snapshot snapshot{frozen, std::move(r)};
      if (!source) source = frozen;
      if (s.analysis.selects(snapshot.record.stage, facts.last)) {
        // Made here, on the thread of the run's draws, and quietly: the copy draws nothing
        // that training would have drawn (Model::quiet_clone).
        snapshot.measured = frozen->quiet_clone();
        snapshot.teacher = previous;
        snapshot.source = source;
        if (facts.trained_on) {
          const int k = snapshot.record.stage;
          snapshot.trained = analysis_rows(s, "train", *facts.trained_on, k == 0, "stage" + std::to_string(k));
        }
      }
      previous = frozen;
      std::get<0>(out).try_put(std::move(snapshot));
    });
  });
  flow::function_node<Snapshot, StageRecord> evaluate_stage(
      g, flow::unlimited, [&](Snapshot snapshot) { return evaluate(s, std::move(snapshot)); });
  flow::sequencer_node<StageRecord> in_stage_order(g, [](const StageRecord& r) { return std::size_t(r.stage); });
  flow::function_node<StageRecord> record(g, flow::serial, [&](const StageRecord& r) {
    s.rec.add_stage(r);
    s.summary.passes += r.passes;
  });
  flow::make_edge(generate, all_generated);
  flow::make_edge(flow::output_port<0>(all_generated), adapt_stages);
  flow::make_edge(flow::output_port<0>(adapt_stages), evaluate_stage);
  flow::make_edge(evaluate_stage, in_stage_order);
  flow::make_edge(in_stage_order, record);
  for (std::size_t i = 0; i < s.jobs.size(); ++i) generate.try_put(i);
  g.wait_for_all();
  return failure;
}

/// summary.json and the closing lines of the log, with how adaptation ended.
void finish_run(RunState& s, const std::optional<RunFailure>& failure) {
  RunSummary& summary = s.summary;
  const auto& stages = s.rec.stages();
  summary.seconds = s.clocks.timings();
  if (!stages.empty()) {
    summary.zero_shot_target_accuracy = stages.front().target_accuracy();
    summary.final_target_accuracy = stages.back().target_accuracy();
  }
  summary.status = failure ? failure->status : RunStatus::ok;
  summary.error = failure ? failure->error : "";
  s.rec.finish(summary);
  if (s.options.source_only) {
    s.rec.log(fmt::format("{}: source model {} in {:.1f} s → {}", status_name(summary.status),
                          summary.source_reused ? "already there" : "trained", summary.seconds.total,
                          s.options.source_dir));
    if (failure) s.rec.log("source training failed: " + failure->error);
    return;
  }
  s.rec.log(fmt::format("{}: zero-shot target {:.1f} %, final target {:.1f} %; {:.1f} s total "
                        "(data {:.1f}, source {:.1f}, adaptation {:.1f}, evaluation {:.1f} overlapping)",
                        status_name(summary.status), 100 * summary.zero_shot_target_accuracy.value_or(0),
                        100 * summary.final_target_accuracy.value_or(0), summary.seconds.total,
                        summary.seconds.data, summary.seconds.source, summary.seconds.adaptation,
                        summary.seconds.evaluation));
  if (failure) s.rec.log("run failed: " + failure->error);
  if (s.analysis.on())
    s.rec.log(fmt::format("analysis: {:.1f} s beside evaluation ([analysis], docs/ANALYSIS.md)", summary.seconds.analysis));
  for (const auto& problem : s.analysis_problems) s.rec.log("analysis failed at " + problem);
  // A stage number past the path is not an error (a sweep over T shares one [analysis]),
  // but it measured nothing, and the user should hear so.
  if (s.analysis.stages == AnalysisSettings::Stages::listed && summary.status == RunStatus::ok && !stages.empty())
    for (const int k : s.analysis.listed)
      if (k > stages.back().stage)
        s.rec.log(fmt::format("note: analysis.stages names stage {}, but this run's last stage is {}: nothing was "
                              "measured there", k, stages.back().stage));
  for (const auto& note : s.notes) s.rec.log(note);
  s.rec.log("results: " + s.rec.dir() + "/table.md");
}

}  // namespace

std::string default_run_dir(const Config& c) {
  std::string name = c.section("output").text("name");
  if (name.empty())
    name = fmt::format("{}-seed{}", c.file.empty() ? "run" : std::filesystem::path(c.file).stem().string(),
                       c.section("").integer("seed"));
  return (std::filesystem::path(c.section("output").text("dir")) / name).string();
}

RunSummary run_experiment(const Config& config, const RunOptions& options) {
  RunState s(config, options);
  start_run(s);
  prepare_run(s);
  s.rec.log(fmt::format("{:>5} {:<8} {:>5} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7}", "stage", "domain", "pos",
                        "kept", "pl-acc", "loss", "source", "inter", "target", "train-s"));
  // Under a one-CPU affinity (a Slurm task with --cpus-per-task=1, taskset -c 0) TBB would
  // allow no worker thread, and no stage would be recorded until adaptation ended.
  const auto slots = std::size_t(arena_slots(s.summary.threads));
  const tbb::global_control workers(
      tbb::global_control::max_allowed_parallelism,
      std::max(slots, tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism)));
  tbb::task_arena arena(static_cast<int>(slots));
  std::optional<RunFailure> failure;
  arena.execute([&] { failure = run_graph(s); });
  finish_run(s, failure);
  return s.summary;
}

}  // namespace gda
