// The device: "auto" picks CUDA where LibTorch sees a GPU and the CPU elsewhere; "cuda" is
// refused with a clear message where there is none. The Cuda* tests below that need a GPU
// skip without one (CI has none) and run on the GPU machine (README: GPU): every optimizer's
// first steps on a GPU equal the CPU's, a run repeats bit for bit, files saved on one device
// load on the other, and a sweep spreads its jobs over GPUs.
#include <ATen/Context.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/device.h"
#include "core/files.h"
#include "pipeline/config.h"
#include "pipeline/run.h"
#include "pipeline/source_model.h"
#include "pipeline/sweep/slurm.h"
#include "stages/analysis/analysis.h"
#include "stages/models/model.h"
#include "stages/optim/optimizer.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

namespace fs = std::filesystem;

#define SKIP_WITHOUT_CUDA() \
  if (!cuda_available()) GTEST_SKIP() << "no CUDA device here: this test runs on a GPU machine (README: GPU)"

TEST(CudaDevice, AutoIsTheFirstGpuWhereThereIsOneElseTheCpu) {
  const c10::Device d = resolve_device("auto");
  if (cuda_available()) EXPECT_EQ(d, c10::Device(c10::kCUDA, 0));
  else EXPECT_EQ(d, c10::Device(c10::kCPU));
  EXPECT_EQ(resolve_device("cpu"), c10::Device(c10::kCPU));
  EXPECT_NE(describe_device(d).find("LibTorch"), std::string::npos) << describe_device(d);
}

TEST(CudaDevice, ConfigRefusesADeviceItCannotUseNamingTheLine) {
  const std::string dir = temp_dir("cuda_refused");
  const std::string path = dir + "/c.toml";
  atomic_write(path, "seed = 0\ndevice = \"gpu\"\n");
  std::string message = user_error_of([&] { load_config(path); });
  EXPECT_NE(message.find(path + ":2"), std::string::npos) << message;
  EXPECT_NE(message.find("\"cuda:N\""), std::string::npos) << message;
  if (cuda_available()) {
    atomic_write(path, "device = \"cuda:99\"\n");
    message = user_error_of([&] { load_config(path); });
    EXPECT_NE(message.find("names GPU 99"), std::string::npos) << message;
    return;
  }
  atomic_write(path, "seed = 0\ndevice = \"cuda\"\n");
  message = user_error_of([&] { load_config(path); });
  EXPECT_NE(message.find(path + ":2"), std::string::npos) << message;
  EXPECT_NE(message.find("needs a CUDA device"), std::string::npos) << message;
  EXPECT_NE(message.find("\"auto\""), std::string::npos) << message;
}

TEST(CudaDevice, SlurmAsksForOneGpuPerTaskWhenTheJobsRunOnCuda) {
  SweepPlan plan;
  plan.base_config = "base.toml";
  SweepJob job;
  job.index = 0;
  plan.jobs.push_back(job);
  SlurmOptions o{"/bin/gda", {}, 0, "", true};
  const auto scripts = slurm_scripts("/sweep", plan, o);
  ASSERT_FALSE(scripts.empty());
  EXPECT_NE(scripts.front().text.find("#SBATCH --gres=gpu:1"), std::string::npos) << scripts.front().text;
  EXPECT_NE(scripts.front().text.find("--device 'cuda'"), std::string::npos) << scripts.front().text;
  EXPECT_EQ(scripts.back().text.find("--gres"), std::string::npos) << "the report needs no GPU";
  o.gpu = false;
  EXPECT_EQ(slurm_scripts("/sweep", plan, o).front().text.find("--gres"), std::string::npos);
}

/// Settings under which an optimizer's draws do not depend on the device's random generator
/// (the CPU's and a GPU's give different numbers for one seed): RWP's noise made negligible.
std::vector<std::pair<std::string, Value>> device_independent(const std::string& name) {
  if (name == "rwp") return {{"sigma", 1e-12}};
  return {};
}

/// Three steps of `name` (over adam) on a tiny MLP on `device`; its parameters after them.
Tensors three_steps(const std::string& name, const c10::Device& device) {
  torch::manual_seed(3);
  Params model_params = Params::defaults(model_registry().get("mlp").params);
  model_params.set("hidden", std::int64_t(16));
  auto model = make_model("mlp", model_params, {{6}, 3});
  model->to(device);
  const auto x = torch::randn({24, 6}).to(device);
  const auto y = torch::randint(3, {24}, torch::kInt64).to(device);
  const std::string base = is_base_optimizer(name) ? name : "adam";
  auto optimizer = make_optimizer(model->parameters(), optimizer_params(name, base, device_independent(name)));
  optimizer->begin_stage({model.get(), x, x, model.get()});
  for (int step = 0; step < 3; ++step) {
    StepContext ctx(*model, x, y);
    optimizer->step(ctx);
  }
  Tensors out;
  for (const auto& p : model->parameters()) out.push_back(p.detach().to(torch::kCPU));
  return out;
}

TEST(CudaOptimizers, EveryOptimizersFirstThreeStepsEqualTheCpusWithin1e5) {
  SKIP_WITHOUT_CUDA();
  // TF32 would round float32 products to 10 bits of mantissa on the GPU.
  at::globalContext().setAllowTF32CuBLAS(false);
  at::globalContext().setAllowTF32CuDNN(false);
  for (const auto& name : optimizer_registry().names()) {
    SCOPED_TRACE(name);
    const Tensors cpu = three_steps(name, c10::Device(c10::kCPU));
    const Tensors gpu = three_steps(name, c10::Device(c10::kCUDA, 0));
    ASSERT_EQ(cpu.size(), gpu.size());
    for (std::size_t i = 0; i < cpu.size(); ++i) {
      const double scale = cpu[i].abs().max().item<double>();
      const double diff = (cpu[i] - gpu[i]).abs().max().item<double>();
      EXPECT_LE(diff, 1e-5 * scale) << "parameter " << i << ": largest difference " << diff;
    }
  }
}

/// A tiny run's stages without their timings (which differ from run to run).
std::string stage_numbers(const std::string& run_dir) {
  std::ifstream in(run_dir + "/stages.jsonl");
  std::string out;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    j.erase("train_seconds");
    j.erase("eval_seconds");
    out += j.dump() + "\n";
  }
  return out;
}

TEST(CudaRun, ATinyRunOnTheGpuGivesTheSameNumbersTwice) {
  SKIP_WITHOUT_CUDA();
  const std::string dir = temp_dir("cuda_twice");
  std::string numbers[2];
  for (int i = 0; i < 2; ++i) {
    const std::string out = dir + "/run" + std::to_string(i);
    const RunSummary s = run_experiment(parse_config("device = \"cuda\"\n" + tiny_config(2), "tiny"), {out, nullptr});
    ASSERT_EQ(s.status, RunStatus::ok) << s.error;
    EXPECT_EQ(s.device.rfind("cuda:0", 0), 0u) << s.device;
    numbers[i] = stage_numbers(out);
  }
  EXPECT_FALSE(numbers[0].empty());
  EXPECT_EQ(numbers[0], numbers[1]);
}

TEST(CudaAnalysis, MeasurementsOnTheGpuMatchTheCpusAndLeaveTheRunUnchanged) {
  SKIP_WITHOUT_CUDA();
  // The same model and inputs measured on both devices: the random draws come from CPU
  // generators on both, so only rounding differs.
  torch::manual_seed(0);
  const Config c = parse_config(tiny_config(2) + "\n[analysis]\nstages = \"all\"\nsharpness = [\"worst_case\", "
                                "\"adaptive_worst_case\", \"average_case\", \"lambda_max\", \"trace\"]\n"
                                "similarity = [\"linear_cka\", \"rbf_cka\"]\n", "tiny");
  const AnalysisSettings settings = AnalysisSettings::from(c.section("analysis"));
  auto cpu = make_model("cnn", c.section("model"), InputShape{{1, 10, 10}, 3});
  auto gpu = cpu->clone_model();
  gpu->to(torch::kCUDA);
  const auto x = torch::rand({64, 1, 10, 10}), y = torch::randint(0, 3, {64});
  auto measure = [&](const ModelPtr& m, c10::Device d) {
    return analyse_stage(settings, {m, m, m}, {{"target", x.to(d), y.to(d)}}, 32, 5);
  };
  const auto on_cpu = measure(cpu, torch::kCPU), on_gpu = measure(gpu, torch::kCUDA);
  ASSERT_EQ(on_cpu.size(), on_gpu.size());
  for (std::size_t i = 0; i < on_cpu.size(); ++i) {
    EXPECT_EQ(on_cpu[i].name, on_gpu[i].name);
    const double tolerance = on_cpu[i].name == "lambda_max_iterations" ? 1.0 : 1e-2 * std::abs(on_cpu[i].value) + 1e-5;
    EXPECT_NEAR(on_gpu[i].value, on_cpu[i].value, tolerance) << on_cpu[i].name;
  }
  const auto again = measure(gpu, torch::kCUDA);
  for (std::size_t i = 0; i < on_gpu.size(); ++i)
    EXPECT_NEAR(again[i].value, on_gpu[i].value, 1e-5 * std::abs(on_gpu[i].value) + 1e-9) << on_gpu[i].name;
  // A run on the GPU measures beside evaluation and keeps its accuracies bit for bit.
  const std::string dir = temp_dir("cuda_analysis");
  const auto off = run_experiment(parse_config("device = \"cuda\"\n" + tiny_config(2), "tiny"), {dir + "/off", nullptr});
  const auto on = run_experiment(parse_config("device = \"cuda\"\n" + tiny_config(2) + "\n[analysis]\nstages = \"all\"\n"
                                              "samples = 32\n", "tiny"), {dir + "/on", nullptr});
  ASSERT_EQ(on.status, RunStatus::ok) << on.error;
  EXPECT_EQ(*on.final_target_accuracy, *off.final_target_accuracy);
  EXPECT_GT(on.seconds.analysis, 0.0);
  EXPECT_NE(read_text(dir + "/on/stages.jsonl").find("\"lambda_max\""), std::string::npos);
}

/// The largest difference between two models' parameters and buffers.
double largest_difference(const Model& a, const Model& b) {
  double d = 0;
  auto pa = a.parameters(), pb = b.parameters();
  for (std::size_t i = 0; i < pa.size(); ++i)
    d = std::max(d, (pa[i].to(torch::kCPU) - pb[i].to(torch::kCPU)).abs().max().item<double>());
  auto ba = a.buffers(), bb = b.buffers();
  for (std::size_t i = 0; i < ba.size(); ++i)
    if (ba[i].is_floating_point())
      d = std::max(d, (ba[i].to(torch::kCPU) - bb[i].to(torch::kCPU)).abs().max().item<double>());
  return d;
}

TEST(CudaRun, ASourceModelSavedOnOneDeviceLoadsOnTheOther) {
  SKIP_WITHOUT_CUDA();
  const std::string dir = temp_dir("cuda_source_model");
  torch::manual_seed(1);
  auto trained = make_model("cnn", Params::defaults(model_registry().get("cnn").params), {{1, 28, 28}, 10});
  trained->to(torch::kCUDA);
  StageRecord r0;
  r0.loss = 0.5;
  save_source_model(dir + "/from_gpu", *trained, r0);
  auto on_cpu = trained->clone_model();
  on_cpu->to(torch::kCPU);
  torch::manual_seed(2);  // different initial weights: the load must overwrite them all
  auto loaded_cpu = make_model("cnn", Params::defaults(model_registry().get("cnn").params), {{1, 28, 28}, 10});
  load_source_model(dir + "/from_gpu", *loaded_cpu);
  EXPECT_EQ(loaded_cpu->device(), c10::Device(c10::kCPU));
  EXPECT_EQ(largest_difference(*loaded_cpu, *trained), 0.0);

  save_source_model(dir + "/from_cpu", *on_cpu, r0);
  auto loaded_gpu = make_model("cnn", Params::defaults(model_registry().get("cnn").params), {{1, 28, 28}, 10});
  loaded_gpu->to(torch::kCUDA);
  load_source_model(dir + "/from_cpu", *loaded_gpu);
  EXPECT_TRUE(loaded_gpu->device().is_cuda());
  EXPECT_EQ(largest_difference(*loaded_gpu, *trained), 0.0);
}

TEST(CudaRun, OptimizerStateSavedOnTheGpuLoadsOnTheCpu) {
  SKIP_WITHOUT_CUDA();
  const std::string file = temp_dir("cuda_optimizer_state") + "/tram.pt";
  torch::manual_seed(4);
  auto model = make_model("mlp", Params::defaults(model_registry().get("mlp").params), {{6}, 3});
  model->to(torch::kCUDA);
  const auto x = torch::randn({16, 6}).to(torch::kCUDA);
  const auto y = torch::randint(3, {16}, torch::kInt64).to(torch::kCUDA);
  auto on_gpu = make_optimizer(model->parameters(), optimizer_params("tram", "adam"));
  for (int i = 0; i < 2; ++i) {
    StepContext ctx(*model, x, y);
    on_gpu->step(ctx);
  }
  torch::serialize::OutputArchive out;
  on_gpu->save(out);
  out.save_to(file);
  auto cpu_model = model->clone_model();
  cpu_model->to(torch::kCPU);
  auto on_cpu = make_optimizer(cpu_model->parameters(), optimizer_params("tram", "adam"));
  torch::serialize::InputArchive in;
  in.load_from(file, c10::Device(c10::kCPU));
  on_cpu->load(in);
  // One more step on each: the same state gives the same step.
  StepContext gpu_ctx(*model, x, y);
  on_gpu->step(gpu_ctx);
  StepContext cpu_ctx(*cpu_model, x.to(torch::kCPU), y.to(torch::kCPU));
  on_cpu->step(cpu_ctx);
  EXPECT_LE(largest_difference(*model, *cpu_model), 1e-5);
}

TEST(CudaSweep, TwoJobsShareOneGpu) {
  SKIP_WITHOUT_CUDA();
  const std::string dir = temp_dir("cuda_sweep");
  atomic_write(dir + "/base.toml", tiny_config(2));
  atomic_write(dir + "/sweep.toml", "base = \"base.toml\"\n[grid]\n\"optimizer.name\" = [\"adam\", \"sam\"]\n");
  const std::string cmd = fmt::format("{} sweep {}/sweep.toml --out {}/out --gpus 0 --jobs-per-gpu 2 --no-progress "
                                      "> {}/log.txt 2>&1", GDA_BINARY, dir, dir, dir);
  ASSERT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0) << read_text(dir + "/log.txt");
  int runs = 0;
  for (const auto& e : fs::directory_iterator(dir + "/out/runs")) {
    const auto s = nlohmann::json::parse(read_text(e.path().string() + "/summary.json"));
    EXPECT_EQ(s["device"].get<std::string>().rfind("cuda:0", 0), 0u) << s.dump();
    ++runs;
  }
  EXPECT_EQ(runs, 2);
}

}  // namespace
}  // namespace gda::test
