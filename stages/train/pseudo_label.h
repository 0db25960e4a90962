#pragma once
// Pseudo-labels with the confidence filter of gradual self-training (Kumar et al. 2020).
#include <torch/types.h>

namespace gda {

struct PseudoLabels {
  torch::Tensor keep;    ///< int64 indices of the kept samples
  torch::Tensor labels;  ///< int64 argmax labels of the kept samples
  double threshold = 0;  ///< confidence of the cut
};

/// Labels each row of `logits` by its argmax and drops the least confident fraction:
/// confidence = max logit − min logit; keep rows with confidence ≥ the drop_fraction
/// quantile (linear interpolation, as numpy.quantile). drop_fraction = 0 keeps all.
PseudoLabels confident_pseudo_labels(const torch::Tensor& logits, double drop_fraction);

}  // namespace gda
