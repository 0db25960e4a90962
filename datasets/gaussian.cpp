// The synthetic Gaussian shift of Kumar, Ma and Liang (ICML 2020): two classes, each an
// isotropic Gaussian in D dimensions, with means ±(separation/2)·e_1. Made in memory. With
// shift.generator = "rotation" the points turn in the plane of their first two coordinates,
// which turns the class means: the gradual shift of the paper, in a second, for fast tests
// and small studies (model.name = "mlp").
#include <cmath>

#include "datasets/dataset.h"
#include "core/random.h"

namespace gda {
namespace {

Dataset make_gaussian(const Params& p, const LoadContext&) {
  const std::int64_t n = p.integer("size"), d = p.integer("dim");
  const double half = p.real("separation") / 2, std = p.real("std");
  Rng rng(derive_seed(std::uint64_t(p.integer("seed")), "gaussian"));
  Dataset out;
  out.x = torch::empty({n, d});
  out.y = torch::empty({n}, torch::kInt64);
  auto xa = out.x.accessor<float, 2>();
  auto ya = out.y.accessor<std::int64_t, 1>();
  for (std::int64_t s = 0; s < n; ++s) {
    const std::int64_t k = s % 2;
    ya[s] = k;
    for (std::int64_t j = 0; j < d; ++j) {
      // Box–Muller from two uniforms keeps the draw independent of the std library.
      const double u1 = uniform(rng, 1e-12, 1), u2 = uniform(rng, 0, 1);
      const double z = std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
      const double mean = j == 0 ? (k == 0 ? -half : half) : 0.0;
      xa[s][j] = float(mean + std * z);
    }
  }
  return out;
}

const bool registered = dataset_registry().add(
    {"gaussian",
     "two isotropic Gaussian classes with means ±separation/2 on the first axis (Kumar et al. 2020's "
     "Gaussian setting with shift.generator = \"rotation\"), made in memory",
     {integer("size", 4000, "number of points (half per class)", 2, 1e7), integer("dim", 2, "dimension D", 2, 1e5),
      positive("separation", 4.0, "distance between the two class means"),
      positive("std", 1.0, "standard deviation of each coordinate"),
      integer("seed", 0, "seed of the points (the run's seed shuffles)", 0)},
     make_gaussian});

}  // namespace
}  // namespace gda
