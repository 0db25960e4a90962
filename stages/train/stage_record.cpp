#include "stages/train/stage_record.h"

namespace gda {

std::optional<double> StageRecord::accuracy_of(const std::string& d) const {
  for (const auto& a : accuracies)
    if (a.domain == d) return a.accuracy;
  return std::nullopt;
}

}  // namespace gda
