#include "stages/train/pseudo_label.h"

#include <torch/torch.h>

namespace gda {

PseudoLabels confident_pseudo_labels(const torch::Tensor& logits, double drop_fraction) {
  auto confidence = (std::get<0>(logits.max(1)) - std::get<0>(logits.min(1))).to(torch::kFloat64);
  PseudoLabels p;
  p.threshold = drop_fraction > 0 ? torch::quantile(confidence, drop_fraction).item<double>()
                                  : -std::numeric_limits<double>::infinity();
  p.keep = torch::nonzero(confidence >= p.threshold).flatten();
  p.labels = logits.argmax(1).index_select(0, p.keep);
  return p;
}

}  // namespace gda
