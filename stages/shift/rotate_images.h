#pragma once
#include <torch/types.h>

#include <vector>

namespace gda {

/// Rotates image k of x ([N, C, H, W] float) by angles[k] degrees counter-clockwise about
/// the image centre ((W-1)/2, (H-1)/2), same size out, bilinear, zero fill (OpenCV
/// warpAffine). Images are independent, so the loop runs in parallel (TBB).
torch::Tensor rotate_images(const torch::Tensor& x, const std::vector<double>& angles);

/// Rotates row k of x ([N, D] float, D ≥ 2) by angles[k] degrees counter-clockwise in the
/// plane of its first two coordinates; the others stay. For point clouds such as the
/// Gaussian dataset, rotating the points rotates the class means (Kumar et al. 2020).
torch::Tensor rotate_points(const torch::Tensor& x, const std::vector<double>& angles);

}  // namespace gda
