#pragma once
// One [analysis] measurement of a stage's model (stages/analysis/analysis.h). Its own header
// so that a stage's record (stages/train/stage_record.h) can hold measurements without
// stages/analysis depending on stages/train.
#include <string>

namespace gda {

struct Measurement {
  std::string domain;  ///< "train", "source" or "target"
  std::string name;    ///< e.g. "worst_case", "lambda_max", "linear_cka_features_source"
  double value = 0;
};

}  // namespace gda
