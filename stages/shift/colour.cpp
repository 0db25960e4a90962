// Colour shift. "intensity" (the colour-shift MNIST of GOAT, He et al. 2023, and the SAM
// fork of Schapiro and Zhao 2024): every pixel of a domain at path position t moves by
// t·target_shift, so source pixels lie in [0, 1] and target pixels, with the default
// target_shift = 1, in [1, 2]. "hue" (3-channel RGB images in [0, 1]): the hue turns by
// t·hue_degrees through OpenCV's HSV conversion; saturation and value stay.
//
// Positions follow the rest of gda: intermediate domain i of T sits at (i + 1)/(T + 1).
// GOAT places its last intermediate domain on the target's shift (scale (i + 1)/T); here
// the target is a domain of its own, never seen in training before the last stage.
#include <tbb/parallel_for.h>
#include <torch/torch.h>

#include <opencv2/imgproc.hpp>

#include "core/choice.h"
#include "stages/shift/generator.h"

namespace gda {
namespace {

/// Images [N, 3, H, W] with RGB in [0, 1], hue turned by `degrees`.
torch::Tensor rotate_hue(const torch::Tensor& x, double degrees) {
  auto in = x.permute({0, 2, 3, 1}).contiguous();  // NHWC: OpenCV's interleaved layout
  auto out = torch::empty_like(in);
  const int n = int(in.size(0)), h = int(in.size(1)), w = int(in.size(2));
  float* src = in.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  tbb::parallel_for(0, n, [&](int k) {
    const std::size_t off = std::size_t(k) * h * w * 3;
    cv::Mat rgb(h, w, CV_32FC3, src + off), hsv, back(h, w, CV_32FC3, dst + off);
    cv::cvtColor(rgb, hsv, cv::COLOR_RGB2HSV);  // float: H in [0, 360)
    for (int i = 0; i < h; ++i)
      for (auto* p = hsv.ptr<cv::Vec3f>(i), *e = p + w; p != e; ++p) {
        float hue = std::fmod((*p)[0] + float(degrees), 360.0f);
        (*p)[0] = hue < 0 ? hue + 360.0f : hue;
      }
    cv::cvtColor(hsv, back, cv::COLOR_HSV2RGB);
  });
  return out.permute({0, 3, 1, 2}).contiguous();
}

/// What the shift changes (key mode).
enum class Mode { intensity, hue };
const Choice<Mode> kMode{{"intensity", Mode::intensity}, {"hue", Mode::hue}};

class Colour : public ShiftGenerator {
 public:
  explicit Colour(const Params& p)
      : hue_(kMode.of(p, "mode") == Mode::hue), shift_(p.real("target_shift")), degrees_(p.real("hue_degrees")) {}

  std::vector<DomainJob> plan(const DataSplit& split, std::int64_t T, std::uint64_t) const override {
    if (hue_ && split.source.x.dim() == 4 && split.source.x.size(1) != 3)
      throw UserError("shift.mode = \"hue\" needs 3-channel (RGB) images; this dataset has " +
                      std::to_string(split.source.x.size(1)) + " channel(s): use mode = \"intensity\"");
    std::vector<DomainJob> jobs{job("source", 0.0, split.source)};
    auto groups = equal_groups(split.intermediate.size(), T);
    for (std::size_t i = 0; i < groups.size(); ++i)
      jobs.push_back(job("inter" + std::to_string(i + 1), intermediate_position(i, T),
                         split.intermediate.slice(groups[i].first, groups[i].second)));
    jobs.push_back(job("target", 1.0, split.target));
    return jobs;
  }

 private:
  DomainJob job(std::string name, double t, Dataset data) const {
    return {name, t, [=, hue = hue_, shift = shift_, degrees = degrees_]() {
              torch::Tensor x = hue ? rotate_hue(data.x, t * degrees) : data.x + t * shift;
              return Domain{name, t, x, data.y, {}};
            }};
  }

  bool hue_;
  double shift_, degrees_;
};

const bool registered = generator_registry().add(
    {"colour",
     "colour shift: pixel intensities move by t·target_shift (GOAT's colour-shift MNIST, He et al. 2023), "
     "or the hue of RGB images turns by t·hue_degrees (OpenCV HSV)",
     {kMode.spec("mode", Mode::intensity, "\"intensity\": add t·target_shift to every pixel; \"hue\": turn the hue of RGB images"),
      real("target_shift", 1.0, "intensity shift of the target (source pixels [0, 1] → target [1, 2])"),
      real("hue_degrees", 120.0, "hue turn of the target in degrees (mode = \"hue\")")},
     [](const Params& p) { return std::make_unique<Colour>(p); }});

}  // namespace
}  // namespace gda
