#pragma once
// Where a run's tensors live. A config names it ("auto", "cpu", "cuda", "cuda:N"); this
// turns the name into a torch::Device, says what the device is (for the log, summary.json
// and the sweep report) and sets the process up for repeatable numbers on it. Everything
// that depends on whether this LibTorch was built with CUDA is in device.cpp.
#include <c10/core/Device.h>

#include <string>

namespace gda {

/// Whether this LibTorch has CUDA and sees at least one device.
bool cuda_available();

/// The CUDA devices LibTorch sees (0 without CUDA).
std::size_t cuda_device_count();

/// "" when `spec` names a device this build and machine can use, else what is wrong and
/// how to fix it (for the config validator, which names the file and line).
std::string device_problem(const std::string& spec);

/// The device `spec` names; "auto" is the first CUDA device when there is one, else the
/// CPU. Throws UserError with device_problem's message when it cannot be used.
c10::Device resolve_device(const std::string& spec);

/// What the device is, for people: "cpu (LibTorch 1.13.0)",
/// "cuda:0 (NVIDIA H200, CUDA 13.0, LibTorch 2.11.0)".
std::string describe_device(const c10::Device& device);

/// Same config, seed and device → same numbers: cuDNN's deterministic algorithms without
/// benchmark mode (cuBLAS repeats itself on gda's one stream). Call before any CUDA work.
/// false lets cuDNN benchmark and pick the fastest convolution algorithms, which may vary
/// run to run.
void set_deterministic(bool deterministic);

/// Starts CUDA on `device` (its context, cuDNN and cuBLAS: about a second) with a tiny
/// convolution and product, so that a caller can do its own CPU work meanwhile (a run reads
/// its data). Nothing for the CPU; draws no random number.
void warm_up(const c10::Device& device);

/// Whether CUDA's float32 convolutions and matrix products may use TF32 tensor cores (a
/// 10-bit mantissa: faster, less precise). false keeps float32 as on the CPU.
void set_tf32(bool allowed);

}  // namespace gda
