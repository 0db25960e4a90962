// One run as a TBB flow graph (docs/ARCHITECTURE.md):
//
//   domain jobs ─▶ generate (unlimited) ─▶ all_generated (serial gate)
//        ─▶ adapt (serial: source training, then each stage in order; emits a snapshot
//                  of the model after every stage)
//        ─▶ evaluate (unlimited: accuracy of a snapshot on the domains)
//        ─▶ in_stage_order (sequencer) ─▶ record (serial: files and console)
//
// Evaluation of stage k runs on its snapshot while stage k+1 trains. Every node takes the
// run's plan (pipeline/run_plan.h) read-only and receives the rest in its message: the
// gate hands on the made domains, the adapt node snapshots, evaluation stage records. Only
// the record node writes to the recorder; what the adapt node has to say comes back as a
// value once the graph has ended, and finish_run writes the summary from it.
#include "pipeline/run.h"

#include <fmt/format.h>
#include <tbb/flow_graph.h>
#include <tbb/global_control.h>
#include <tbb/task_arena.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "core/stopwatch.h"
#include "core/threads.h"
#include "pipeline/run_plan.h"
#include "pipeline/source_model.h"
#include "stages/optim/optimizer.h"
#include "stages/eval/evaluator.h"

namespace gda {
namespace {

/// The domains of the path, made and on the device, and the fixed inputs [analysis] draws
/// from them once: handed on by the gate, shared read-only by the nodes after it.
struct PathDomains {
  std::vector<Domain> path;  ///< in path order: the source first, the target last
  std::vector<AnalysisDomain> analysis_inputs;  ///< fixed source and target rows (none without [analysis])
};
using Domains = std::shared_ptr<const PathDomains>;

/// The model after a stage, frozen for evaluation, with the stage's training facts; when
/// [analysis] selects the stage, a private copy to measure and what it is compared with.
struct Snapshot {
  Domains domains;
  ModelPtr model;
  StageRecord record;
  /// The copy [analysis] measures (null when the stage is not selected): the measurements
  /// move its weights, so it is the analysis's alone, while the frozen models below, which
  /// later stages read too, are only read.
  ModelPtr measured;
  ModelPtr teacher, source;  ///< the stage's teacher (the previous stage's model) and the source model
  AnalysisDomain trained;    ///< fixed inputs of the domain it trained on (none in feature space)
};

/// A stage evaluated: its record, and why its [analysis] failed, if it did.
struct EvaluatedStage {
  StageRecord record;
  std::string analysis_problem;
};

/// What the adapt node knows about a stage beside its model and record.
struct StageFacts {
  const Domain* trained_on = nullptr;  ///< its domain (null for a feature-space stage)
  bool last = false;                   ///< the last stage of the path
};

/// How adaptation ended when it did not end well.
struct RunFailure {
  RunStatus status = RunStatus::failed;
  std::string error;
};

/// What the adapt node returns, read once the graph has ended.
struct Adaptation {
  std::optional<RunFailure> failure;
  bool source_reused = false;     ///< the source model was loaded, not trained
  double source_seconds = 0, seconds = 0;  ///< source training; the stages after it
  std::vector<std::string> notes;  ///< lines for the log, written at the end
};

/// What the graph leaves beside the recorded stages.
struct GraphOutcome {
  Adaptation adaptation;
  double data_seconds = 0;                    ///< from the start to the last domain made
  std::vector<std::string> analysis_problems;  ///< measurements that failed, by stage
};

/// `samples` rows of domain d (all when it has fewer), chosen by a stream of their own so
/// that the analysis draws nothing from the run's other streams.
AnalysisDomain analysis_rows(const RunPlan& plan, const std::string& role, const Domain& d, bool labelled,
                             const std::string& purpose) {
  Rng rng(derive_seed(plan.seed, "analysis/samples/" + purpose));
  auto order = permutation(d.size(), rng);
  order.resize(std::size_t(std::min<std::int64_t>(d.size(), plan.analysis.samples)));
  const auto rows = torch::tensor(order, torch::kInt64).to(d.x.device());
  return {role, d.x.index_select(0, rows), labelled ? d.y.index_select(0, rows) : torch::Tensor()};
}

/// The gate's message: the made domains on the device, with [analysis]'s fixed inputs.
Domains path_domains(const RunPlan& plan, std::vector<Domain> made) {
  auto domains = std::make_shared<PathDomains>();
  // Made on the CPU (OpenCV, the OT solvers); uploaded once, here, for every stage to use.
  for (auto& d : made) domains->path.push_back(d.to(plan.device));
  if (plan.analysis.on())
    domains->analysis_inputs = {analysis_rows(plan, "source", domains->path.front(), true, "source"),
                                analysis_rows(plan, "target", domains->path.back(), true, "target")};
  return domains;
}

/// Stage 0: the source model, loaded from plan.source_dir when it holds one, else trained
/// (and saved there when a folder is given).
StageRecord source_stage(const RunPlan& plan, const Domain& source, Adaptation& out) {
  const auto t0 = Clock::now();
  StageRecord r0;
  if (!plan.source_dir.empty() && has_source_model(plan.source_dir)) {
    r0 = load_source_model(plan.source_dir, *plan.model);
    out.source_reused = true;
  } else {
    Rng rng(derive_seed(plan.seed, "train/order"));
    r0 = train_on_source(*plan.model, source, plan.source, rng);
    if (!plan.source_dir.empty()) save_source_model(plan.source_dir, *plan.model, r0);
  }
  out.source_seconds = seconds_since(t0);
  return r0;
}

using Emit = std::function<void(const ModelPtr&, StageRecord, const StageFacts&)>;

/// The stages after the source: a baseline's rounds (none for source_only); along the path,
/// 0 for a zero-shot plan of the source and the target alone, unless the generator makes
/// domains of its own in between (ot_path).
std::size_t path_length(const RunPlan& plan, const PathDomains& domains) {
  switch (plan.schedule) {
    case Schedule::source_only: return 0;
    case Schedule::direct:
    case Schedule::pooled: return std::size_t(plan.rounds);
    case Schedule::gradual: break;
  }
  const bool zero_shot = domains.path.size() <= 2 && !plan.generator->makes_segments();
  return zero_shot ? 0 : domains.path.size() - 1;
}

/// A segment's files into the run folder, and its order's τ into the log's notes.
void keep_segment_files(const RunPlan& plan, const PathSegment& segment, Adaptation& out) {
  for (const auto& [name, text] : segment.files) atomic_write(plan.dir + "/" + name, text);
  if (segment.order_tau)
    out.notes.push_back(fmt::format("discovered order: Kendall's tau {:.3f} against the true domains ({:.1f} s)",
                                    *segment.order_tau, segment.seconds));
}

/// The teacher of stage 1: the source model, or under Student::keep_training a copy of it,
/// which then trains on through every stage (the source model stays as it was, for the
/// optimizers that compare with it).
ModelPtr first_teacher(const RunPlan& plan) {
  return plan.stages.student == Student::keep_training ? plan.model->clone_model() : plan.model;
}

/// Stages 1…: self-training through the path, each stage's model handed to `emit`.
void adapt_along_path(const RunPlan& plan, const PathDomains& domains, const Emit& emit, Adaptation& out) {
  // Adaptation draws from its own streams, so its numbers are the same whether the
  // source model was trained just now or loaded (a sweep shares it between runs).
  Rng rng(derive_seed(plan.seed, "train/adapt"));
  torch::manual_seed(derive_seed(plan.seed, "torch/adapt"));
  const auto t0 = Clock::now();
  const std::vector<Domain>& path = domains.path;
  const std::size_t stages = path_length(plan, domains) + 1;
  auto teacher = first_teacher(plan);
  CarriedOptimizer carried;
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
      segment = plan.generator->segment(*teacher, path[k - 1], path[k], plan.stages.inference_batch,
                                        derive_seed(plan.seed, "shift/segment" + std::to_string(k)));
    });
    const bool last_segment = k + 1 == stages;
    if (segment) {
      for (auto& d : segment->domains) d = d.to(plan.device);  // a plugin's may come on the CPU
      keep_segment_files(plan, *segment, out);
      std::size_t j = 0;
      teacher = self_train_segment(*segment, teacher, plan.model, plan.stages, rng,
                                   [&](const ModelPtr& m, StageRecord r) {
                                     r.order_tau = segment->order_tau;
                                     const std::size_t at = j++;
                                     const Domain* d = segment->features ? nullptr : &segment->domains[at];
                                     numbered(m, std::move(r), {d, last_segment && j == segment->domains.size()});
                                   });
      continue;
    }
    StageRecord r;
    const torch::Tensor next_x = k + 1 < stages ? path[k + 1].x : torch::Tensor();
    teacher = self_train(teacher, *plan.model, path[k], next_x, plan.stages, rng, r, carried);
    numbered(teacher, std::move(r), {&path[k], last_segment});
  }
  out.seconds = seconds_since(t0);
}

/// The one domain a baseline trains on: the target (direct), or every domain after the
/// source pooled, labels kept for the pseudo-label accuracy only (pooled).
Domain baseline_domain(const RunPlan& plan, const PathDomains& domains) {
  const std::vector<Domain>& path = domains.path;
  if (plan.schedule == Schedule::direct) return path.back();
  std::vector<torch::Tensor> xs, ys;
  for (std::size_t k = 1; k < path.size(); ++k) {
    xs.push_back(path[k].x);
    ys.push_back(path[k].y);
  }
  return Domain{"pooled", 1.0, torch::cat(xs), torch::cat(ys), {}};
}

/// Stages 1… of a baseline: self-training on one domain, round after round, each round's
/// student the next round's teacher. Generated segments (ot_path) are not a baseline's.
void self_train_rounds(const RunPlan& plan, const PathDomains& domains, const Emit& emit, Adaptation& out) {
  Rng rng(derive_seed(plan.seed, "train/adapt"));
  torch::manual_seed(derive_seed(plan.seed, "torch/adapt"));
  const auto t0 = Clock::now();
  const Domain domain = baseline_domain(plan, domains);
  auto teacher = first_teacher(plan);
  CarriedOptimizer carried;
  for (int k = 1; k <= plan.rounds; ++k) {
    StageRecord r;
    teacher = self_train(teacher, *plan.model, domain, torch::Tensor(), plan.stages, rng, r, carried);
    r.stage = k;
    emit(teacher, std::move(r), {&domain, k == plan.rounds});
  }
  out.seconds = seconds_since(t0);
}

/// The adapt node: the source stage, then the path. A mistake in the input that shows only
/// now (an OT plan that cannot be solved) ends the run with status "error", a numerical
/// failure with "failed", in what it returns; every stage emitted before stays recorded.
Adaptation adapt(const RunPlan& plan, const PathDomains& domains, const Emit& emit) {
  use_intra_op_threads(plan.header.train_threads);
  Adaptation out;
  try {
    StageRecord r0 = source_stage(plan, domains.path.front(), out);
    if (plan.source_only) return out;
    emit(plan.model, std::move(r0), {&domains.path.front(), path_length(plan, domains) == 0});
    if (plan.schedule == Schedule::gradual) adapt_along_path(plan, domains, emit, out);
    else if (plan.schedule != Schedule::source_only) self_train_rounds(plan, domains, emit, out);
  } catch (const NumericError& e) {
    out.failure = RunFailure{RunStatus::failed, e.what()};
  } catch (const UserError& e) {
    out.failure = RunFailure{RunStatus::error, e.what()};
  }
  return out;
}

/// The adapt node's snapshot of a stage's model: frozen, and, when [analysis] selects the
/// stage, with a private copy to measure and what it is compared with. `previous` and
/// `source` are the frozen models of the stage before and of stage 0 (null at first).
Snapshot snapshot_of(const RunPlan& plan, const Domains& domains, const ModelPtr& m, StageRecord r,
                     const StageFacts& facts, const ModelPtr& previous, const ModelPtr& source) {
  auto frozen = m->clone_model();
  frozen->eval();
  Snapshot snapshot{domains, frozen, std::move(r)};
  if (!plan.analysis.selects(snapshot.record.stage, facts.last)) return snapshot;
  // Made here, on the thread of the run's draws, and quietly: the copy draws nothing that
  // training would have drawn (Model::quiet_clone).
  snapshot.measured = frozen->quiet_clone();
  snapshot.teacher = previous;
  snapshot.source = source ? source : frozen;
  if (facts.trained_on) {
    const int k = snapshot.record.stage;
    snapshot.trained = analysis_rows(plan, "train", *facts.trained_on, k == 0, "stage" + std::to_string(k));
  }
  return snapshot;
}

/// [analysis] of a snapshot the settings select, into its record, on the snapshot's private
/// copy: analyses of different stages may overlap. A measurement that fails (LibTorch
/// refusing a double backward, say) loses that stage's measurements only: the returned
/// problem goes into the run's log at the end.
std::string analyse(const RunPlan& plan, Snapshot& snapshot) {
  std::vector<AnalysisDomain> inputs;
  if (snapshot.trained.x.defined()) inputs.push_back(snapshot.trained);
  const auto& fixed = snapshot.domains->analysis_inputs;
  inputs.insert(inputs.end(), fixed.begin(), fixed.end());
  const int stage = snapshot.record.stage;
  const auto t0 = Clock::now();
  std::string problem;
  try {
    snapshot.record.analysis =
        analyse_stage(plan.analysis, {snapshot.measured, snapshot.teacher, snapshot.source}, inputs,
                      plan.evaluation.batch_size, derive_seed(plan.seed, "analysis/stage" + std::to_string(stage)));
  } catch (const std::exception& e) {
    problem = fmt::format("stage {}: {}", stage, e.what());
  }
  snapshot.record.analysis_seconds = seconds_since(t0);
  return problem;
}

/// The evaluate node: accuracy of a frozen snapshot on every domain, or on the target
/// alone (the last domain of the path), then its [analysis] when selected.
EvaluatedStage evaluate(const RunPlan& plan, Snapshot snapshot) {
  // Every time, not once per thread: this TBB worker may have run another run's adapt node
  // (with the training's thread count) since, and the count would leak into the measurements.
  use_intra_op_threads(plan.header.eval_threads);
  const auto t0 = Clock::now();
  const std::vector<Domain>& path = snapshot.domains->path;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const Domain& d = path[i];
    if (!plan.evaluation.all_domains && i + 1 != path.size()) continue;
    snapshot.record.accuracies.push_back(
        {d.name, d.position, accuracy(*snapshot.model, d.x, d.y, plan.evaluation.batch_size)});
  }
  snapshot.record.eval_seconds = seconds_since(t0);
  std::string problem = snapshot.measured ? analyse(plan, snapshot) : "";
  return {std::move(snapshot.record), std::move(problem)};
}

/// The graph of the diagram above, run to its end in the run's TBB arena. Node state (the
/// gate's arrivals, the adapt node's previous models, the record node's problems) is each
/// node's own, captured from here.
GraphOutcome run_graph(const RunPlan& plan, RunRecorder& rec, Clock::time_point start) {
  namespace flow = tbb::flow;
  using Made = std::pair<std::size_t, Domain>;
  flow::graph g;
  GraphOutcome outcome;
  flow::function_node<std::size_t, Made> generate(g, flow::unlimited,
                                                  [&](std::size_t i) { return Made{i, plan.jobs[i].make()}; });
  using Gate = flow::multifunction_node<Made, std::tuple<Domains>>;
  std::vector<Domain> made(plan.jobs.size());
  std::size_t arrived = 0;
  Gate all_generated(g, flow::serial, [&](Made m, Gate::output_ports_type& out) {
    made[m.first] = std::move(m.second);
    if (++arrived < made.size()) return;
    Domains domains = path_domains(plan, std::move(made));
    outcome.data_seconds = seconds_since(start);
    std::get<0>(out).try_put(domains);
  });
  using Adapt = flow::multifunction_node<Domains, std::tuple<Snapshot>>;
  Adapt adapt_stages(g, flow::serial, [&](const Domains& domains, Adapt::output_ports_type& out) {
    ModelPtr previous, source;
    outcome.adaptation = adapt(plan, *domains, [&](const ModelPtr& m, StageRecord r, const StageFacts& facts) {
      Snapshot snapshot = snapshot_of(plan, domains, m, std::move(r), facts, previous, source);
      if (!source) source = snapshot.model;
      previous = snapshot.model;
      std::get<0>(out).try_put(std::move(snapshot));
    });
  });
  flow::function_node<Snapshot, EvaluatedStage> evaluate_stage(
      g, flow::unlimited, [&](Snapshot snapshot) { return evaluate(plan, std::move(snapshot)); });
  flow::sequencer_node<EvaluatedStage> in_stage_order(
      g, [](const EvaluatedStage& e) { return std::size_t(e.record.stage); });
  flow::function_node<EvaluatedStage> record(g, flow::serial, [&](const EvaluatedStage& e) {
    rec.add_stage(e.record);
    if (!e.analysis_problem.empty()) outcome.analysis_problems.push_back(e.analysis_problem);
  });
  flow::make_edge(generate, all_generated);
  flow::make_edge(flow::output_port<0>(all_generated), adapt_stages);
  flow::make_edge(flow::output_port<0>(adapt_stages), evaluate_stage);
  flow::make_edge(evaluate_stage, in_stage_order);
  flow::make_edge(in_stage_order, record);
  for (std::size_t i = 0; i < plan.jobs.size(); ++i) generate.try_put(i);
  g.wait_for_all();
  return outcome;
}

/// The summary: the plan's header, how adaptation ended, the recorded stages' accuracies,
/// passes and seconds.
RunSummary summary_of(const RunPlan& plan, const GraphOutcome& o, const std::vector<StageRecord>& stages,
                      Clock::time_point start) {
  RunSummary summary = plan.header;
  const Adaptation& a = o.adaptation;
  double evaluation = 0, analysis = 0;
  for (const auto& r : stages) {
    summary.passes += r.passes;
    evaluation += r.eval_seconds;
    analysis += r.analysis_seconds;
  }
  summary.seconds = {o.data_seconds, a.source_seconds, a.seconds, evaluation, analysis, seconds_since(start)};
  summary.source_reused = a.source_reused;
  if (!stages.empty()) {
    summary.zero_shot_target_accuracy = stages.front().target_accuracy();
    summary.final_target_accuracy = stages.back().target_accuracy();
  }
  summary.status = a.failure ? a.failure->status : RunStatus::ok;
  summary.error = a.failure ? a.failure->error : "";
  return summary;
}

/// The log's closing lines of a run that adapted.
void log_adaptation_end(const RunPlan& plan, const GraphOutcome& o, const RunSummary& summary, RunRecorder& rec) {
  const auto& stages = rec.stages();
  rec.log(fmt::format("{}: zero-shot target {:.1f} %, final target {:.1f} %; {:.1f} s total "
                      "(data {:.1f}, source {:.1f}, adaptation {:.1f}, evaluation {:.1f} overlapping)",
                      status_name(summary.status), 100 * summary.zero_shot_target_accuracy.value_or(0),
                      100 * summary.final_target_accuracy.value_or(0), summary.seconds.total, summary.seconds.data,
                      summary.seconds.source, summary.seconds.adaptation, summary.seconds.evaluation));
  if (o.adaptation.failure) rec.log("run failed: " + o.adaptation.failure->error);
  if (plan.analysis.on())
    rec.log(fmt::format("analysis: {:.1f} s beside evaluation ([analysis], docs/ANALYSIS.md)", summary.seconds.analysis));
  for (const auto& problem : o.analysis_problems) rec.log("analysis failed at " + problem);
  // A stage number past the path is not an error (a sweep over T shares one [analysis]),
  // but it measured nothing, and the user should hear so.
  if (plan.analysis.stages == AnalysisSettings::Stages::listed && summary.status == RunStatus::ok && !stages.empty())
    for (const int k : plan.analysis.listed)
      if (k > stages.back().stage)
        rec.log(fmt::format("note: analysis.stages names stage {}, but this run's last stage is {}: nothing was "
                            "measured there", k, stages.back().stage));
  for (const auto& note : o.adaptation.notes) rec.log(note);
  rec.log("results: " + rec.dir() + "/table.md");
}

/// summary.json and the closing lines of the log.
RunSummary finish_run(const RunPlan& plan, const GraphOutcome& o, RunRecorder& rec, Clock::time_point start) {
  RunSummary summary = summary_of(plan, o, rec.stages(), start);
  rec.finish(summary);
  if (!plan.source_only) {
    log_adaptation_end(plan, o, summary, rec);
    return summary;
  }
  rec.log(fmt::format("{}: source model {} in {:.1f} s → {}", status_name(summary.status),
                      summary.source_reused ? "already there" : "trained", summary.seconds.total, plan.source_dir));
  if (o.adaptation.failure) rec.log("source training failed: " + o.adaptation.failure->error);
  return summary;
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
  const auto start = Clock::now();
  RunRecorder rec(options.out_dir.empty() ? default_run_dir(config) : options.out_dir, options.console);
  const RunPlan plan = plan_run(config, options, rec);
  rec.log(fmt::format("{:>5} {:<8} {:>5} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7}", "stage", "domain", "pos",
                      "kept", "pl-acc", "loss", "source", "inter", "target", "train-s"));
  // Under a one-CPU affinity (a Slurm task with --cpus-per-task=1, taskset -c 0) TBB would
  // allow no worker thread, and no stage would be recorded until adaptation ended.
  const auto slots = std::size_t(arena_slots(plan.header.threads));
  const tbb::global_control workers(
      tbb::global_control::max_allowed_parallelism,
      std::max(slots, tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism)));
  tbb::task_arena arena(static_cast<int>(slots));
  GraphOutcome outcome;
  arena.execute([&] { outcome = run_graph(plan, rec, start); });
  return finish_run(plan, outcome, rec, start);
}

}  // namespace gda
