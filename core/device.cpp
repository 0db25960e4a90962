#include "core/device.h"

#include <ATen/Context.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <cstdlib>
#include <regex>

#include "core/error.h"

#ifdef GDA_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace gda {

namespace {

std::string libtorch_version() {
  return fmt::format("LibTorch {}.{}.{}", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH);
}

#ifdef GDA_WITH_CUDA
std::string gpu_facts(int index) {
  const cudaDeviceProp* p = at::cuda::getDeviceProperties(index);
  return fmt::format("{}, {:.0f} GiB, CUDA {}.{}", p->name, double(p->totalGlobalMem) / (1 << 30),
                     CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10);
}
#else
std::string gpu_facts(int) { return "CUDA"; }
#endif

}  // namespace

bool cuda_available() { return torch::cuda::is_available() && torch::cuda::device_count() > 0; }

std::size_t cuda_device_count() { return torch::cuda::is_available() ? torch::cuda::device_count() : 0; }

std::string device_problem(const std::string& spec) {
  if (spec == "auto" || spec == "cpu") return "";
  static const std::regex cuda(R"(cuda(:(\d{1,3}))?)");
  std::smatch m;
  if (!std::regex_match(spec, m, cuda))
    return "the device is \"auto\", \"cpu\", \"cuda\" or \"cuda:N\" (N: a GPU's index)";
  if (!cuda_available())
    return fmt::format("\"{}\" needs a CUDA device, and {}; use \"auto\" (CUDA where there is one) or \"cpu\"",
                       spec, torch::cuda::is_available() ? "this machine has none"
                                                         : "this gda is built against a LibTorch without CUDA "
                                                           "(README: GPU)");
  const long index = m[2].matched ? std::stol(m[2].str()) : 0;
  const long count = long(torch::cuda::device_count());
  if (index >= count)
    return fmt::format("\"{}\" names GPU {}, and this machine has {} (cuda:0 to cuda:{})", spec, index, count,
                       count - 1);
  return "";
}

c10::Device resolve_device(const std::string& spec) {
  const std::string problem = device_problem(spec);
  if (!problem.empty()) throw UserError("device: " + problem);
  if (spec == "cpu" || (spec == "auto" && !cuda_available())) return c10::Device(c10::kCPU);
  if (spec == "auto" || spec == "cuda") return c10::Device(c10::kCUDA, 0);
  return c10::Device(spec);
}

std::string describe_device(const c10::Device& device) {
  if (device.is_cpu()) return fmt::format("cpu ({})", libtorch_version());
  const int index = device.has_index() ? device.index() : 0;
  return fmt::format("cuda:{} ({}, {})", index, gpu_facts(index), libtorch_version());
}

void set_deterministic(bool deterministic) {
  auto& context = at::globalContext();
  context.setDeterministicCuDNN(deterministic);
  context.setBenchmarkCuDNN(!deterministic);
  // Not LibTorch's setDeterministicAlgorithms: gda's ops have deterministic CUDA kernels
  // (the Cuda* tests repeat runs bit for bit), and in 2.x that switch also fills every new
  // allocation with NaN, which doubled the launches of a training step.

  // Not CUBLAS_WORKSPACE_CONFIG either. cuBLAS repeats its results on one stream (NVIDIA's
  // "Results reproducibility"); gda uses the default stream only, and LibTorch gives each
  // cuBLAS handle and stream a workspace of its own. With the variable set, LibTorch 2.11's
  // matrix products cost 2-3x the host time (a CNN step: 3.1 instead of 2.3 ms; PERFORMANCE.md).
}

void set_tf32(bool allowed) {
  at::globalContext().setAllowTF32CuDNN(allowed);
  at::globalContext().setAllowTF32CuBLAS(allowed);
}

void warm_up(const c10::Device& device) {
  if (!device.is_cuda()) return;
  torch::NoGradGuard no_grad;
  const auto options = torch::TensorOptions().device(device);
  const auto features = torch::conv2d(torch::ones({1, 1, 4, 4}, options), torch::ones({1, 1, 3, 3}, options));
  torch::matmul(features.flatten(1), features.flatten(1).t()).sum().item<float>();
}

}  // namespace gda
