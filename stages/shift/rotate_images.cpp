#include "stages/shift/rotate_images.h"

#include <tbb/parallel_for.h>
#include <torch/torch.h>

#include <cmath>

#include <opencv2/imgproc.hpp>

namespace gda {

torch::Tensor rotate_images(const torch::Tensor& x, const std::vector<double>& angles) {
  auto in = x.contiguous();
  auto out = torch::empty_like(in);
  const int n = int(in.size(0)), c = int(in.size(1)), h = int(in.size(2)), w = int(in.size(3));
  TORCH_CHECK(std::int64_t(angles.size()) == n, "rotate_images: one angle per image");
  const cv::Point2f centre((w - 1) / 2.0f, (h - 1) / 2.0f);
  float* src = in.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  tbb::parallel_for(0, n, [&](int k) {
    cv::Mat m = cv::getRotationMatrix2D(centre, angles[k], 1.0);
    for (int ch = 0; ch < c; ++ch) {
      std::size_t off = (std::size_t(k) * c + ch) * h * w;
      cv::Mat a(h, w, CV_32F, src + off), b(h, w, CV_32F, dst + off);
      cv::warpAffine(a, b, m, b.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar(0));
    }
  });
  return out;
}

torch::Tensor rotate_points(const torch::Tensor& x, const std::vector<double>& angles) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) >= 2, "rotate_points: [N, D] with D >= 2");
  TORCH_CHECK(std::int64_t(angles.size()) == x.size(0), "rotate_points: one angle per row");
  const auto rad = torch::tensor(angles, torch::kFloat64) * (std::acos(-1.0) / 180.0);
  const auto c = rad.cos().to(x.dtype()), s = rad.sin().to(x.dtype());
  auto out = x.clone();
  const auto u = x.select(1, 0), v = x.select(1, 1);
  out.select(1, 0).copy_(c * u - s * v);
  out.select(1, 1).copy_(s * u + c * v);
  return out;
}

}  // namespace gda
