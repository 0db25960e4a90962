#pragma once
// How alike two sets of representations of the same inputs are: centred kernel alignment
// (CKA; Kornblith et al., ICML 2019) from the Hilbert–Schmidt independence criterion (HSIC;
// Gretton et al. 2005) of two Gram matrices. Rows are inputs; any trailing dimensions are
// flattened. Computed in float64.
#include <torch/types.h>

namespace gda {

enum class HsicEstimator {
  biased,    ///< tr(K·C·L·C)/(n−1)², C the centring matrix (Gretton et al.; Kornblith's CKA)
  unbiased,  ///< Song et al. (JMLR 2012), needs n ≥ 4; CKA from it is not biased by n
};

/// K = X·Xᵀ.
torch::Tensor linear_gram(const torch::Tensor& x);
/// K_ij = exp(−||x_i − x_j||² / (2σ²)) with σ = bandwidth · the median distance between
/// distinct rows (after Kornblith et al.); all ones when every row is the same.
torch::Tensor rbf_gram(const torch::Tensor& x, double bandwidth);

double hsic(const torch::Tensor& k, const torch::Tensor& l, HsicEstimator estimator);

/// HSIC(K, L) / sqrt(HSIC(K, K)·HSIC(L, L)); NaN when either set is constant (and, with the
/// unbiased estimator, when a self-HSIC comes out ≤ 0 by chance).
double cka(const torch::Tensor& k, const torch::Tensor& l, HsicEstimator estimator);

}  // namespace gda
