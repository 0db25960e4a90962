#include "stages/train/stage_record.h"

namespace gda {

std::optional<double> StageRecord::accuracy_of(const std::string& d) const {
  for (const auto& a : accuracies)
    if (a.domain == d) return a.accuracy;
  return std::nullopt;
}

std::optional<double> StageRecord::target_accuracy() const {
  if (accuracies.empty()) return std::nullopt;
  return accuracies.back().accuracy;
}

std::optional<double> StageRecord::source_accuracy() const {
  if (accuracies.size() < 2) return std::nullopt;
  return accuracies.front().accuracy;
}

std::optional<double> StageRecord::mean_intermediate_accuracy() const {
  if (accuracies.size() < 3) return std::nullopt;
  double sum = 0;
  for (std::size_t i = 1; i + 1 < accuracies.size(); ++i) sum += accuracies[i].accuracy;
  return sum / double(accuracies.size() - 2);
}

}  // namespace gda
