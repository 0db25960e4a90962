// One run as a TBB flow graph (docs/ARCHITECTURE.md):
//
//   domain jobs ─▶ generate (unlimited) ─▶ all_generated (serial gate)
//        ─▶ adapt (serial: source training, then each stage in order; emits a snapshot
//                  of the model after every stage)
//        ─▶ evaluate (unlimited: accuracy of a snapshot on the domains)
//        ─▶ in_stage_order (sequencer) ─▶ record (serial: files and console)
//
// Evaluation of stage k runs on its snapshot while stage k+1 trains.
#include "pipeline/run.h"

#include <fmt/format.h>
#include <tbb/flow_graph.h>
#include <tbb/task_arena.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <opencv2/core/utility.hpp>

#include "core/error.h"
#include "pipeline/source_model.h"
#include "core/threads.h"
#include "stages/eval/evaluator.h"
#include "stages/optim/optimizer.h"
#include "stages/shift/generator.h"
#include "stages/train/self_training.h"

namespace gda {
namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

/// The model after a stage, frozen for evaluation, with the stage's training facts.
struct Snapshot {
  ModelPtr model;
  StageRecord record;
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

}  // namespace

std::string default_run_dir(const Config& c) {
  std::string name = c.section("output").text("name");
  if (name.empty())
    name = fmt::format("{}-seed{}", c.file.empty() ? "run" : std::filesystem::path(c.file).stem().string(),
                       c.section("").integer("seed"));
  return (std::filesystem::path(c.section("output").text("dir")) / name).string();
}

RunSummary run_experiment(const Config& config, const RunOptions& options) {
  const auto t_start = Clock::now();
  const Params& top = config.section("");
  const auto seed = std::uint64_t(top.integer("seed"));
  RunSummary summary;
  summary.seed = top.integer("seed");
  summary.config_hash = config.hash();
  summary.threads = int(top.integer("threads"));
  // Training gets every thread; evaluation overlaps it with one, as more would only
  // oversubscribe the cores that training already uses.
  summary.train_threads = summary.threads;
  summary.eval_threads = 1;

  RunRecorder rec(options.out_dir.empty() ? default_run_dir(config) : options.out_dir, options.console);
  rec.write_config(config.to_toml());
  rec.log(fmt::format("gda run: {} seed {} → {}", config.file.empty() ? "(text)" : config.file, seed, rec.dir()));
  rec.log(fmt::format("threads: {} (training {} LibTorch intra-op; evaluation {} intra-op, overlapping; "
                      "TBB arena {})", summary.threads, summary.train_threads, summary.eval_threads,
                      summary.threads));

  set_default_intra_op_threads(summary.threads);
  cv::setNumThreads(1);  // images are rotated in parallel by TBB, one per task
  torch::manual_seed(seed);

  // Data: load, shuffle and cut; the domains are made inside the graph.
  LoadContext load{config.dir, default_data_dir()};
  const Params& data = config.section("data");
  Dataset all = dataset_registry().get(data.text("name")).make(data, load);
  DataSplit split = split_data(all, data, seed);
  const Params& shift = config.section("shift");
  auto generator = generator_registry().get(shift.text("generator")).make(shift);
  auto jobs = generator->plan(split, shift.integer("T"), seed);
  auto model = make_model(config.section("model").text("name"), config.section("model"), shape_of(all));

  StageSettings source_settings, stage_settings;
  const Params& src = config.section("source");
  const Params& adapt = config.section("adaptation");
  const Params& eval = config.section("evaluation");
  source_settings.epochs = int(src.integer("epochs"));
  source_settings.batch_size = int(src.integer("batch_size"));
  source_settings.optimizer = source_optimizer(src, config.section("optimizer"));
  stage_settings.epochs = int(adapt.integer("epochs"));
  stage_settings.batch_size = int(adapt.integer("batch_size"));
  stage_settings.drop_fraction = adapt.real("drop_fraction");
  stage_settings.optimizer = config.section("optimizer");
  stage_settings.inference_batch = source_settings.inference_batch = eval.integer("batch_size");
  const bool eval_all = eval.text("domains") == "all";

  std::vector<Domain> domains(jobs.size());
  std::atomic<double> eval_seconds{0};
  std::mutex failure_mutex;
  std::string failure;
  double data_seconds = 0, adaptation_seconds = 0, source_seconds = 0;

  rec.log(fmt::format("{:>5} {:<8} {:>5} {:>6} {:>6} {:>7} {:>7} {:>7} {:>7} {:>7}", "stage", "domain", "pos",
                      "kept", "pl-acc", "loss", "source", "inter", "target", "train-s"));

  tbb::task_arena arena(summary.threads);
  arena.execute([&] {
    namespace flow = tbb::flow;
    flow::graph g;

    flow::function_node<std::size_t, std::size_t> generate(g, flow::unlimited, [&](std::size_t i) {
      domains[i] = jobs[i].make();
      return i;
    });

    using Gate = flow::multifunction_node<std::size_t, std::tuple<flow::continue_msg>>;
    std::size_t arrived = 0;
    Gate all_generated(g, flow::serial, [&](std::size_t, Gate::output_ports_type& out) {
      if (++arrived < jobs.size()) return;
      data_seconds = seconds_since(t_start);
      std::get<0>(out).try_put(flow::continue_msg());
    });

    using Adapt = flow::multifunction_node<flow::continue_msg, std::tuple<Snapshot>>;
    Adapt adapt_stages(g, flow::serial, [&](flow::continue_msg, Adapt::output_ports_type& out) {
      use_intra_op_threads(summary.train_threads);
      auto emit = [&](const ModelPtr& m, StageRecord r) {
        auto frozen = m->clone_model();
        frozen->eval();
        std::get<0>(out).try_put(Snapshot{frozen, std::move(r)});
      };
      try {
        auto ts = Clock::now();
        StageRecord r0;
        if (!options.source_dir.empty() && has_source_model(options.source_dir)) {
          r0 = load_source_model(options.source_dir, *model);
          summary.source_reused = true;
        } else {
          Rng rng(derive_seed(seed, "train/order"));
          r0 = train_on_source(*model, domains.front(), source_settings, rng);
          if (!options.source_dir.empty()) save_source_model(options.source_dir, *model, r0);
        }
        source_seconds = seconds_since(ts);
        if (options.source_only) return;
        emit(model, r0);
        // Adaptation draws from its own streams, so its numbers are the same whether the
        // source model was trained just now or loaded (a sweep shares it between runs).
        Rng rng(derive_seed(seed, "train/adapt"));
        torch::manual_seed(derive_seed(seed, "torch/adapt"));
        auto teacher = model;
        auto ta = Clock::now();
        // T = 0 is zero-shot: the source model is the result, unless the generator makes
        // domains of its own between source and target (ot_path).
        const bool zero_shot = shift.integer("T") == 0 && !generator->makes_segments();
        const std::size_t stages = zero_shot ? 1 : domains.size();
        int stage = 0;
        auto numbered = [&](const ModelPtr& m, StageRecord r) {
          r.stage = ++stage;
          emit(m, std::move(r));
        };
        for (std::size_t k = 1; k < stages; ++k) {
          // Isolated: while the generator's parallel loops run, this thread must not pick up
          // an evaluation task, which would pin it to the evaluation's thread count.
          std::optional<PathSegment> segment;
          tbb::this_task_arena::isolate([&] {
            segment = generator->segment(*teacher, domains[k - 1], domains[k], stage_settings.inference_batch,
                                         derive_seed(seed, "shift/segment" + std::to_string(k)));
          });
          if (segment) {
            teacher = self_train_segment(*segment, teacher, model, stage_settings, rng, numbered);
            continue;
          }
          StageRecord r;
          const torch::Tensor next_x = k + 1 < stages ? domains[k + 1].x : torch::Tensor();
          teacher = self_train(*teacher, *model, domains[k], next_x, stage_settings, rng, r);
          numbered(teacher, std::move(r));
        }
        adaptation_seconds = seconds_since(ta);
      } catch (const NumericError& e) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        failure = e.what();
      } catch (const UserError& e) {
        std::lock_guard<std::mutex> lock(failure_mutex);
        failure = e.what();
      }
    });

    flow::function_node<Snapshot, StageRecord> evaluate(g, flow::unlimited, [&](Snapshot s) {
      thread_local bool pinned = false;
      if (!pinned) use_intra_op_threads(summary.eval_threads), pinned = true;
      auto te = Clock::now();
      for (const auto& d : domains) {
        if (!eval_all && d.name != "target") continue;
        s.record.accuracies.push_back(
            {d.name, d.position, accuracy(*s.model, d.x, d.y, stage_settings.inference_batch)});
      }
      s.record.eval_seconds = seconds_since(te);
      eval_seconds = eval_seconds + s.record.eval_seconds;
      return s.record;
    });

    flow::sequencer_node<StageRecord> in_stage_order(g, [](const StageRecord& r) { return std::size_t(r.stage); });

    flow::function_node<StageRecord> record(g, flow::serial, [&](const StageRecord& r) {
      rec.add_stage(r);
      summary.passes += r.passes;
    });

    flow::make_edge(generate, all_generated);
    flow::make_edge(flow::output_port<0>(all_generated), adapt_stages);
    flow::make_edge(flow::output_port<0>(adapt_stages), evaluate);
    flow::make_edge(evaluate, in_stage_order);
    flow::make_edge(in_stage_order, record);

    for (std::size_t i = 0; i < jobs.size(); ++i) generate.try_put(i);
    g.wait_for_all();
  });

  const auto& stages = rec.stages();
  summary.seconds.data = data_seconds;
  summary.seconds.source = source_seconds;
  summary.seconds.adaptation = adaptation_seconds;
  summary.seconds.evaluation = eval_seconds;
  summary.seconds.total = seconds_since(t_start);
  if (!stages.empty()) {
    summary.zero_shot_target_accuracy = stages.front().accuracy_of("target");
    summary.final_target_accuracy = stages.back().accuracy_of("target");
  }
  summary.status = failure.empty() ? "ok" : "failed";
  summary.error = failure;
  rec.finish(summary);
  if (options.source_only) {
    rec.log(fmt::format("{}: source model {} in {:.1f} s → {}", summary.status,
                        summary.source_reused ? "already there" : "trained", summary.seconds.total, options.source_dir));
    if (!failure.empty()) rec.log("source training failed: " + failure);
    return summary;
  }
  rec.log(fmt::format("{}: zero-shot target {:.1f} %, final target {:.1f} %; {:.1f} s total "
                      "(data {:.1f}, source {:.1f}, adaptation {:.1f}, evaluation {:.1f} overlapping)",
                      summary.status, 100 * summary.zero_shot_target_accuracy.value_or(0),
                      100 * summary.final_target_accuracy.value_or(0), summary.seconds.total,
                      summary.seconds.data, summary.seconds.source, summary.seconds.adaptation,
                      summary.seconds.evaluation));
  if (!failure.empty()) rec.log("run failed: " + failure);
  rec.log("results: " + rec.dir() + "/table.md");
  return summary;
}

}  // namespace gda
