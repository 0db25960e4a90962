// Rotating images (Kumar et al. 2020; the reference experiment): source angles drawn
// uniformly from [source_min, source_max], the k-th of the n intermediate samples rotated
// by start + (end - start)·k/n and cut in order into T equal domains, target angles drawn
// uniformly from [target_min, target_max].
#include "core/random.h"
#include "stages/shift/generator.h"
#include "stages/shift/rotate_images.h"

namespace gda {
namespace {

class Rotation : public ShiftGenerator {
 public:
  explicit Rotation(const Params& p) : p_(p) {}

  std::vector<DomainJob> plan(const DataSplit& split, std::int64_t T,
                              std::uint64_t seed) const override {
    std::vector<DomainJob> jobs;
    Rng rng_s(derive_seed(seed, "rotation/source")), rng_t(derive_seed(seed, "rotation/target"));
    jobs.push_back(job("source", 0.0, split.source,
                       draw(rng_s, split.source.size(), p_.real("source_min"), p_.real("source_max"))));
    const std::int64_t n = split.intermediate.size();
    const double a = p_.real("intermediate_start"), b = p_.real("intermediate_end");
    auto groups = equal_groups(n, T);
    for (std::size_t i = 0; i < groups.size(); ++i) {
      auto [lo, hi] = groups[i];
      std::vector<double> angles;
      for (std::int64_t k = lo; k < hi; ++k) angles.push_back(a + (b - a) * double(k) / double(n));
      jobs.push_back(job("inter" + std::to_string(i + 1), intermediate_position(i, T),
                         split.intermediate.slice(lo, hi), std::move(angles)));
    }
    jobs.push_back(job("target", 1.0, split.target,
                       draw(rng_t, split.target.size(), p_.real("target_min"), p_.real("target_max"))));
    return jobs;
  }

 private:
  static std::vector<double> draw(Rng& rng, std::int64_t n, double lo, double hi) {
    std::vector<double> v(n);
    for (auto& a : v) a = uniform(rng, lo, hi);
    return v;
  }

  static DomainJob job(std::string name, double position, Dataset data, std::vector<double> angles) {
    return {name, position, [=]() {
              // Images turn about their centre; point clouds ([N, D]) in their first plane.
              auto x = data.x.dim() == 2 ? rotate_points(data.x, angles) : rotate_images(data.x, angles);
              return Domain{name, position, x, data.y, {}};
            }};
  }

  Params p_;
};

const bool registered = generator_registry().add(
    {"rotation",
     "rotate images by a growing angle (Kumar et al. 2020, rotating MNIST); OpenCV warpAffine, bilinear, zero fill",
     {real("source_min", 0.0, "smallest source angle (degrees)"),
      real("source_max", 5.0, "largest source angle (degrees)"),
      real("intermediate_start", 5.0, "angle of the first intermediate sample (degrees)"),
      real("intermediate_end", 60.0, "angle the intermediate schedule ends at (degrees, exclusive)"),
      real("target_min", 55.0, "smallest target angle (degrees)"),
      real("target_max", 60.0, "largest target angle (degrees)")},
     [](const Params& p) { return std::make_unique<Rotation>(p); }});

}  // namespace
}  // namespace gda
