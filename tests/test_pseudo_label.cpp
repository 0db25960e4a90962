#include "stages/train/pseudo_label.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

TEST(PseudoLabels, DropsTheLeastConfidentTenthByLogitMargin) {
  // Ten rows; row i has logits [i, 0, -i] except row 3, whose argmax is class 2.
  // Confidence (max − min) = 2i for every row: 0, 2, …, 18. numpy.quantile(·, 0.1) with
  // linear interpolation = 0 + 0.9·(2 − 0) = 1.8, so row 0 (confidence 0) is dropped.
  auto logits = torch::zeros({10, 3});
  for (int i = 0; i < 10; ++i) {
    logits[i][0] = float(i);
    logits[i][2] = float(-i);
  }
  logits[3][0] = -3.0f;
  logits[3][2] = 3.0f;
  auto p = confident_pseudo_labels(logits, 0.1);
  EXPECT_NEAR(p.threshold, 1.8, 1e-9);
  ASSERT_EQ(p.keep.size(0), 9);
  EXPECT_EQ(p.keep[0].item<int64_t>(), 1);
  EXPECT_EQ(p.labels[2].item<int64_t>(), 2);  // row 3
  EXPECT_EQ(p.labels[0].item<int64_t>(), 0);
}

TEST(PseudoLabels, TiesAtTheThresholdAreKept) {
  // Confidences 1, 1, 1, 5: the 0.5 quantile is 1, and every row with confidence ≥ 1 stays.
  auto logits = torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}, {1.0f, 0.0f}, {5.0f, 0.0f}});
  auto p = confident_pseudo_labels(logits, 0.5);
  EXPECT_EQ(p.keep.size(0), 4);
  EXPECT_EQ(p.labels[1].item<int64_t>(), 1);
}

TEST(PseudoLabels, ProbabilityRangeRanksAsKumarsSoftmaxModelDoes) {
  // Row 0, logits [3, 3, 0]: logit range 3; softmax e³/(2e³ + 1) = 0.487856 twice and
  // 1/(2e³ + 1) = 0.024289, range 0.463567. Row 1, [2, 0, 0]: logit range 2; softmax
  // e²/(e² + 2) = 0.786986 and 1/(e² + 2) = 0.106507, range 0.680479. Cutting half keeps
  // the row above the median: row 0 by logits, row 1 by probabilities.
  const auto logits = torch::tensor({{3.0f, 3.0f, 0.0f}, {2.0f, 0.0f, 0.0f}});
  const auto by_logits = confident_pseudo_labels(logits, 0.5);
  EXPECT_NEAR(by_logits.threshold, 2.5, 1e-6);
  ASSERT_EQ(by_logits.keep.size(0), 1);
  EXPECT_EQ(by_logits.keep[0].item<int64_t>(), 0);
  const auto by_probability = confident_pseudo_labels(logits, 0.5, Confidence::probability_range);
  EXPECT_NEAR(by_probability.threshold, (0.463567 + 0.680479) / 2, 1e-6);
  ASSERT_EQ(by_probability.keep.size(0), 1);
  EXPECT_EQ(by_probability.keep[0].item<int64_t>(), 1);
  EXPECT_EQ(by_probability.labels[0].item<int64_t>(), 0);
}

TEST(PseudoLabels, ZeroDropKeepsAll) {
  auto p = confident_pseudo_labels(torch::randn({7, 4}), 0.0);
  EXPECT_EQ(p.keep.size(0), 7);
}

}  // namespace
}  // namespace gda::test
