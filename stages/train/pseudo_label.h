#pragma once
// Pseudo-labels with the confidence filter of gradual self-training (Kumar et al. 2020).
#include <torch/types.h>

#include "core/choice.h"

namespace gda {

/// What ranks pseudo-labels for the confidence cut (adaptation.confidence): max − min of the
/// logits (GOAT's and Schapiro and Zhao's code; gda's default), or of the softmax
/// probabilities (Kumar et al.'s code, whose Keras model ends in a softmax). The two rank
/// rows differently: [3, 3, 0] has the larger logit range, [2, 0, 0] the larger probability range.
enum class Confidence { logit_range, probability_range };
const Choice<Confidence>& confidence_choice();

struct PseudoLabels {
  torch::Tensor keep;    ///< int64 indices of the kept samples
  torch::Tensor labels;  ///< int64 argmax labels of the kept samples
  double threshold = 0;  ///< confidence of the cut
};

/// Labels each row of `logits` by its argmax and drops the least confident fraction:
/// confidence = max − min of the row's logits (or of its softmax, `by`); keep rows with
/// confidence ≥ the drop_fraction quantile (linear interpolation, as numpy.quantile).
/// drop_fraction = 0 keeps all.
PseudoLabels confident_pseudo_labels(const torch::Tensor& logits, double drop_fraction,
                                     Confidence by = Confidence::logit_range);

}  // namespace gda
