#include "datasets/dataset.h"

#include <cstdlib>
#include <filesystem>

namespace gda {

Dataset Dataset::select(const torch::Tensor& index) const {
  return {x.index_select(0, index), y.index_select(0, index)};
}

Dataset Dataset::slice(std::int64_t begin, std::int64_t end) const {
  return {x.slice(0, begin, end), y.slice(0, begin, end)};
}

Domain Domain::to(const c10::Device& device) const {
  auto moved = [&](const torch::Tensor& t) { return t.defined() ? t.to(device) : t; };
  return {name, position, moved(x), moved(y), moved(weight)};
}

std::string default_data_dir() {
  if (const char* d = std::getenv("GDA_DATA"); d && *d) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.cache/gda";
}

std::string resolve_path(const std::string& path, const LoadContext& ctx) {
  if (path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    return std::string(home ? home : ".") + path.substr(1);
  }
  std::filesystem::path p(path);
  if (p.is_absolute() || ctx.config_dir.empty()) return path;
  return (std::filesystem::path(ctx.config_dir) / p).string();
}

DatasetRegistry& dataset_registry() {
  static DatasetRegistry r("dataset");
  return r;
}

}  // namespace gda
