// A shift generator as an out-of-tree plugin: images blur more and more along the path.
// The domain at position t is blurred with a Gaussian of standard deviation t·target_sigma
// pixels (OpenCV GaussianBlur); the source (t = 0) is left sharp. Build it against an
// installed gda (see CMakeLists.txt) and load it from a config:
//   plugins = ["build/libgda_gaussian_blur.so"]
//   [shift]
//   generator = "gaussian_blur"
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include "pipeline/plugins.h"
#include "stages/shift/generator.h"

namespace {

/// Every channel of every image of x ([N, C, H, W] float) blurred with std `sigma` pixels.
torch::Tensor blur(const torch::Tensor& x, double sigma) {
  if (sigma <= 0) return x.clone();
  auto in = x.contiguous();
  auto out = torch::empty_like(in);
  const int planes = int(in.size(0) * in.size(1)), h = int(in.size(2)), w = int(in.size(3));
  for (int k = 0; k < planes; ++k) {
    cv::Mat src(h, w, CV_32F, in.data_ptr<float>() + std::size_t(k) * h * w);
    cv::Mat dst(h, w, CV_32F, out.data_ptr<float>() + std::size_t(k) * h * w);
    cv::GaussianBlur(src, dst, cv::Size(0, 0), sigma, sigma, cv::BORDER_REFLECT101);
  }
  return out;
}

class GaussianBlur : public gda::ShiftGenerator {
 public:
  explicit GaussianBlur(const gda::Params& p) : sigma_(p.real("target_sigma")) {}

  std::vector<gda::DomainJob> plan(const gda::DataSplit& split, std::int64_t T, std::uint64_t) const override {
    std::vector<gda::DomainJob> jobs{job("source", 0.0, split.source)};
    const auto groups = gda::equal_groups(split.intermediate.size(), T);
    for (std::size_t i = 0; i < groups.size(); ++i)
      jobs.push_back(job("inter" + std::to_string(i + 1), gda::intermediate_position(std::int64_t(i), T),
                         split.intermediate.slice(groups[i].first, groups[i].second)));
    jobs.push_back(job("target", 1.0, split.target));
    return jobs;
  }

 private:
  gda::DomainJob job(std::string name, double t, gda::Dataset data) const {
    const double sigma = t * sigma_;
    return {name, t, [=] { return gda::Domain{name, t, blur(data.x, sigma), data.y, {}}; }};
  }

  double sigma_;
};

}  // namespace

GDA_PLUGIN {
  gda::generator_registry().add(
      {"gaussian_blur", "images blurred with a Gaussian of std t·target_sigma pixels (example plugin)",
       {gda::positive("target_sigma", 2.0, "blur of the target, in pixels (standard deviation)")},
       [](const gda::Params& p) { return std::make_unique<GaussianBlur>(p); }});
}
