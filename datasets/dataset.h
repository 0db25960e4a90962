#pragma once
// What every loader produces, what every generator makes, and the dataset registry.
#include <torch/types.h>

#include <functional>
#include <string>

#include "core/registry.h"

namespace gda {

/// Labelled examples: x is [N, C, H, W] (images) or [N, D] (tables), float32;
/// y is [N] int64 class indices.
struct Dataset {
  torch::Tensor x;
  torch::Tensor y;
  std::int64_t size() const { return x.defined() ? x.size(0) : 0; }
  /// Rows `index` (int64 tensor) of both x and y.
  Dataset select(const torch::Tensor& index) const;
  /// Rows [begin, end).
  Dataset slice(std::int64_t begin, std::int64_t end) const;
};

/// One domain on the path from source (position 0) to target (position 1).
/// y holds true labels for evaluation only; outside the source they never reach training.
/// weight (optional, [N]) weighs each sample's loss, for generators that make weighted
/// samples (optimal-transport paths).
struct Domain {
  std::string name;
  double position = 0.0;
  torch::Tensor x;
  torch::Tensor y;
  torch::Tensor weight;
  std::int64_t size() const { return x.defined() ? x.size(0) : 0; }
  /// The same domain with its tensors on `device` (itself when they are there already).
  Domain to(const c10::Device& device) const;
};

/// Where a loader looks for relative paths and the data cache.
struct LoadContext {
  std::string config_dir;  ///< directory of the config file, for relative paths
  std::string data_dir;    ///< ${GDA_DATA:-~/.cache/gda}
};

/// The data cache: $GDA_DATA, else ~/.cache/gda.
std::string default_data_dir();
/// path as given if absolute, else relative to ctx.config_dir; "~/" expands to $HOME.
std::string resolve_path(const std::string& path, const LoadContext& ctx);

using DatasetFactory = std::function<Dataset(const Params&, const LoadContext&)>;
using DatasetRegistry = Registry<DatasetFactory>;
DatasetRegistry& dataset_registry();

}  // namespace gda
