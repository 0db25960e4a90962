#include "stages/train/pseudo_label.h"

#include <torch/torch.h>

namespace gda {

const Choice<Confidence>& confidence_choice() {
  static const Choice<Confidence> choice{{"logit_range", Confidence::logit_range},
                                         {"probability_range", Confidence::probability_range}};
  return choice;
}

PseudoLabels confident_pseudo_labels(const torch::Tensor& logits, double drop_fraction, Confidence by) {
  const torch::Tensor ranked = by == Confidence::probability_range ? torch::softmax(logits, 1) : logits;
  auto confidence = (std::get<0>(ranked.max(1)) - std::get<0>(ranked.min(1))).to(torch::kFloat64);
  PseudoLabels p;
  p.threshold = drop_fraction > 0 ? torch::quantile(confidence, drop_fraction).item<double>()
                                  : -std::numeric_limits<double>::infinity();
  p.keep = torch::nonzero(confidence >= p.threshold).flatten();
  p.labels = logits.argmax(1).index_select(0, p.keep);
  return p;
}

}  // namespace gda
