// gda_bench: training throughput of a model under each optimizer, measured the way the
// pipeline trains (one StepContext per batch, the optimizer's own step).
//
//   gda_bench [--optimizers adam,sam|all] [--model cnn] [--batch 128] [--steps 40]
//             [--threads 2] [--repeats 3] [--device auto|cpu|cuda|cuda:N] [--profile]
//   gda_bench --analysis [--samples 512] [--model cnn] [--threads 1] [--device ...]
//
// Prints ms per step, training samples/s, passes per step and each optimizer's step time
// relative to the first one (the SAM/Adam ratio of docs/PERFORMANCE.md). Inputs are random
// 1×28×28 images: speed does not depend on the pixel values. --analysis instead times each
// [analysis] measurement (docs/ANALYSIS.md) once, at its defaults, on one domain of
// --samples inputs: what it adds per stage and domain.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>

#include "pipeline/config.h"
#include "core/device.h"
#include "core/error.h"
#include "core/libstdcxx_guard.h"
#include "core/threads.h"
#include "stages/analysis/analysis.h"
#include "stages/models/model.h"
#include "stages/optim/optimizer.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Result {
  std::string optimizer;
  double ms_per_step = 0;
  // Mean per step: optimizers such as LookSAM differ from step to step.
  double forward = 0, backward = 0, forward_samples = 0, backward_samples = 0;
  /// Samples through forward passes plus twice those through backward passes (a
  /// backward costs about two forwards): the cost the passes predict.
  double work() const { return forward_samples + 2 * backward_samples; }
};

gda::Params section_of(const std::string& name, const std::string& text) {
  return gda::parse_config(text, "gda_bench").section(name);
}

/// A model and an optimizer as a config would build them, and one random batch.
struct Bench {
  gda::ModelPtr model;
  std::unique_ptr<gda::Optimizer> optimizer;
  torch::Tensor x, y;

  Bench(const std::string& optimizer_name, const std::string& model_name, int batch, const c10::Device& device) {
    torch::manual_seed(0);
    gda::InputShape shape{{1, 28, 28}, 10};
    model = gda::make_model(model_name, section_of("model", fmt::format("[model]\nname = \"{}\"\n", model_name)),
                            shape);
    model->to(device);
    model->train();
    optimizer = gda::make_optimizer(
        model->parameters(), section_of("optimizer", fmt::format("[optimizer]\nname = \"{}\"\n", optimizer_name)));
    x = torch::rand({batch, 1, 28, 28}).to(device);
    y = torch::randint(10, {batch}, torch::kInt64).to(device);
  }

  /// n steps on the batch; their passes.
  gda::PassCount steps(int n) {
    gda::PassCount total;
    for (int i = 0; i < n; ++i) {
      gda::StepContext ctx(*model, x, y);
      optimizer->step(ctx);
      total += ctx.passes();
    }
    // A GPU runs the steps after the host queued them: wait for the last before a clock is read.
    if (x.is_cuda()) torch::cuda::synchronize();
    return total;
  }
};

/// Median over repeats of the mean step time over `steps` steps, after a warm-up.
Result measure(const std::string& optimizer_name, const std::string& model_name, int batch,
               int steps, int repeats, const c10::Device& device) {
  Bench bench(optimizer_name, model_name, batch, device);
  Result r{optimizer_name};
  bench.steps(5);  // warm-up: allocator, OpenMP pool, Adam state
  std::vector<double> times;
  for (int rep = 0; rep < repeats; ++rep) {
    auto t0 = Clock::now();
    auto passes = bench.steps(steps);
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / steps);
    r.forward = double(passes.forward) / steps;
    r.backward = double(passes.backward) / steps;
    r.forward_samples = double(passes.forward_samples) / steps;
    r.backward_samples = double(passes.backward_samples) / steps;
  }
  std::sort(times.begin(), times.end());
  r.ms_per_step = times[times.size() / 2];
  return r;
}

/// One step under LibTorch's profiler; prints the operators that take the most time.
void profile(const std::string& optimizer_name, const std::string& model_name, int batch,
             const c10::Device& device) {
  Bench bench(optimizer_name, model_name, batch, device);
  bench.steps(5);
  const std::string trace = fmt::format("gda_bench-{}.trace.json", optimizer_name);
  {
    torch::autograd::profiler::RecordProfile guard(trace);
    bench.steps(10);
  }
  std::cout << fmt::format("profile of 10 {} steps written to {} (open in chrome://tracing)\n",
                           optimizer_name, trace);
}

/// Seconds of each [analysis] measurement alone, at the keys' defaults, on `samples`
/// random inputs of one domain (the target), compared with itself as teacher and source.
void bench_analysis(const std::string& model_name, int samples, int batch, const c10::Device& device) {
  torch::manual_seed(0);
  auto model = gda::make_model(model_name, section_of("model", fmt::format("[model]\nname = \"{}\"\n", model_name)),
                               gda::InputShape{{1, 28, 28}, 10});
  model->to(device);
  model->eval();
  const auto x = torch::rand({samples, 1, 28, 28}).to(device);
  const auto y = torch::randint(10, {samples}, torch::kInt64).to(device);
  const std::vector<std::pair<std::string, std::string>> measurements = {
      {"sharpness", "worst_case"}, {"sharpness", "adaptive_worst_case"}, {"sharpness", "average_case"},
      {"sharpness", "lambda_max"}, {"sharpness", "trace"},              {"similarity", "linear_cka"},
      {"similarity", "rbf_cka"}};
  std::cout << fmt::format("{:<20} {:>9}  {}\n", "measurement", "seconds", "(one domain of " + std::to_string(samples) +
                                                                           " inputs, the keys' defaults)");
  for (const auto& [kind, name] : measurements) {
    const std::string other = kind == "sharpness" ? "similarity" : "sharpness";
    const auto settings = gda::AnalysisSettings::from(section_of(
        "analysis", fmt::format("[analysis]\nstages = \"all\"\ndomains = [\"target\"]\nsamples = {}\n{} = [\"{}\"]\n{} = []\n",
                                samples, kind, name, other)));
    auto once = [&] {
      const auto t0 = Clock::now();
      auto m = gda::analyse_stage(settings, {model, model, model}, {{"target", x, y}}, batch, 1);
      if (x.is_cuda()) torch::cuda::synchronize();
      return std::make_pair(std::chrono::duration<double>(Clock::now() - t0).count(), m);
    };
    once();  // warm-up
    const auto [seconds, measured] = once();
    std::string note;
    for (const auto& m : measured)
      if (m.name == "lambda_max_iterations") note = fmt::format("  ({:.0f} Hessian-vector products)", m.value);
    std::cout << fmt::format("{:<20} {:>9.3f}{}\n", name, seconds, note);
  }
}

/// "adam,sam" → {adam, sam}; "all" → adam, then every other registered optimizer.
std::vector<std::string> optimizer_names(std::string optimizers) {
  std::vector<std::string> names;
  if (optimizers == "all") {
    names.push_back("adam");
    for (const auto& n : gda::optimizer_registry().names())
      if (n != "adam") names.push_back(n);
    optimizers.clear();
  }
  for (std::size_t b = 0; b <= optimizers.size();) {
    auto e = std::min(optimizers.find(',', b), optimizers.size());
    if (e > b) names.push_back(optimizers.substr(b, e - b));
    b = e + 1;
  }
  return names;
}

/// The table of ms per step, samples/s, passes and ratios to the first optimizer.
void bench_optimizers(const std::vector<std::string>& names, const std::string& model, int batch, int steps,
                      int repeats, int threads, const c10::Device& device, bool want_profile) {
  std::cout << fmt::format("gda_bench: model {}, batch {}, {} threads, {} steps × {} repeats (median), {}\n",
                           model, batch, threads, steps, repeats, gda::describe_device(device));
  std::cout << fmt::format("{:<13} {:>9} {:>10} {:>8} {:>9} {:>7} {:>11}\n", "optimizer", "ms/step",
                           "samples/s", "forward", "backward", "ratio", "pass ratio");
  std::optional<Result> base;
  for (const auto& name : names) {
    auto r = measure(name, model, batch, steps, repeats, device);
    if (!base) base = r;
    // ratio: measured step time over the first optimizer's; pass ratio: what the passes
    // alone predict (forward samples + 2 × backward samples, over the first's).
    std::cout << fmt::format("{:<13} {:>9.3f} {:>10.0f} {:>8.2f} {:>9.2f} {:>7.2f} {:>11.2f}\n", r.optimizer,
                             r.ms_per_step, 1000.0 * batch / r.ms_per_step, r.forward, r.backward,
                             r.ms_per_step / base->ms_per_step, r.work() / base->work());
    if (want_profile) profile(name, model, batch, device);
  }
}

}  // namespace

int main(int argc, char** argv) {
  gda::use_system_libstdcxx(argv);
  CLI::App app{"gda_bench: training samples/s of a model under each optimizer"};
  std::string optimizers = "adam,sam", model = "cnn", device_name = "cpu";
  int batch = 128, steps = 40, threads = 2, repeats = 3;
  bool want_profile = false, deterministic = true, tf32 = false, want_analysis = false;
  int samples = 512;
  app.add_option("--optimizers", optimizers,
                 "comma-separated optimizer names (the first is the ratio's base), or \"all\": adam, then "
                 "every other registered optimizer");
  app.add_option("--model", model, "registered model");
  app.add_option("--batch", batch, "batch size")->check(CLI::PositiveNumber);
  app.add_option("--steps", steps, "timed steps per repeat")->check(CLI::PositiveNumber);
  app.add_option("--repeats", repeats, "repeats; the median is reported")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "LibTorch intra-op threads")->check(CLI::PositiveNumber);
  app.add_option("--device", device_name, "auto | cpu | cuda | cuda:N (default cpu)");
  app.add_option("--deterministic", deterministic, "as the config key: true (default, as runs) or false");
  app.add_option("--tf32", tf32, "as the config key: false (default, as runs) or true");
  app.add_flag("--profile", want_profile, "also write a chrome trace of 10 steps per optimizer");
  app.add_flag("--analysis", want_analysis, "time each [analysis] measurement instead (docs/ANALYSIS.md)");
  app.add_option("--samples", samples, "inputs per domain for --analysis")->check(CLI::Range(4, 1 << 20));
  CLI11_PARSE(app, argc, argv);

  try {
    gda::set_default_intra_op_threads(threads);
    gda::set_deterministic(deterministic);
    gda::set_tf32(tf32);
    const c10::Device device = gda::resolve_device(device_name);
    if (want_analysis) {
      std::cout << fmt::format("gda_bench --analysis: model {}, {} threads, {}\n", model, threads,
                               gda::describe_device(device));
      bench_analysis(model, samples, 1000, device);
      return 0;
    }
    bench_optimizers(optimizer_names(optimizers), model, batch, steps, repeats, threads, device, want_profile);
  } catch (const gda::UserError& e) {
    std::cerr << "gda_bench: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
