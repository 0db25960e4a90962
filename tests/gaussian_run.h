#pragma once
// The config of a small rotating-Gaussians run with the mlp, shared by the end-to-end tests
// of the gaussian dataset and of ot_path.
#include <fmt/format.h>

#include <string>

namespace gda::test {

struct GaussianRun {
  int size = 1000, source = 200, intermediate = 600, target = 150;
  int adaptation_epochs = 2;
  std::string shift;  ///< the [shift] section's lines
  std::string extra;  ///< further sections
};

inline std::string gaussian_run_config(const GaussianRun& r) {
  return fmt::format(R"(seed = 0
threads = 1
[data]
name = "gaussian"
size = {}
source_size = {}
intermediate_size = {}
target_size = {}
[shift]
{}
[model]
name = "mlp"
[source]
epochs = 5
batch_size = 64
[adaptation]
epochs = {}
batch_size = 64
{}
)", r.size, r.source, r.intermediate, r.target, r.shift, r.adaptation_epochs, r.extra);
}

}  // namespace gda::test
