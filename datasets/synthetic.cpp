// Tiny synthetic images for tests and quick studies: each class is a fixed random blob
// pattern; a sample is its class pattern plus Gaussian pixel noise. Rotating such images
// moves the pattern, so a model trained on upright ones degrades with the angle — a
// miniature rotating MNIST that needs no files.
#include "datasets/dataset.h"
#include "core/random.h"

namespace gda {
namespace {

Dataset make_synthetic(const Params& p, const LoadContext&) {
  const std::int64_t n = p.integer("size"), classes = p.integer("classes"),
                     side = p.integer("side");
  const double noise = p.real("noise");
  Rng rng(derive_seed(std::uint64_t(p.integer("seed")), "synthetic"));
  // Class patterns: random on/off pixels in the central disc, fixed by the dataset seed.
  auto patterns = torch::zeros({classes, side, side});
  auto pa = patterns.accessor<float, 3>();
  double c = (side - 1) / 2.0, r2 = (side / 2.0 - 1) * (side / 2.0 - 1);
  for (std::int64_t k = 0; k < classes; ++k)
    for (std::int64_t i = 0; i < side; ++i)
      for (std::int64_t j = 0; j < side; ++j)
        if ((i - c) * (i - c) + (j - c) * (j - c) <= r2 && uniform(rng, 0, 1) < 0.35) pa[k][i][j] = 1;
  Dataset d;
  d.y = torch::empty({n}, torch::kInt64);
  d.x = torch::empty({n, 1, side, side});
  auto xa = d.x.accessor<float, 4>();
  auto ya = d.y.accessor<std::int64_t, 1>();
  for (std::int64_t s = 0; s < n; ++s) {
    std::int64_t k = s % classes;
    ya[s] = k;
    for (std::int64_t i = 0; i < side; ++i)
      for (std::int64_t j = 0; j < side; ++j) {
        // Box–Muller from two uniforms keeps the draw independent of the std library.
        double u1 = uniform(rng, 1e-12, 1), u2 = uniform(rng, 0, 1);
        double z = std::sqrt(-2 * std::log(u1)) * std::cos(6.283185307179586 * u2);
        xa[s][0][i][j] = float(std::clamp(pa[k][i][j] + noise * z, 0.0, 1.0));
      }
  }
  return d;
}

const bool registered = dataset_registry().add(
    {"synthetic", "random class patterns plus noise, made in memory (for tests and quick studies)",
     {integer("size", 1200, "number of examples", 1, 1e7), integer("classes", 4, "number of classes", 2, 1000),
      integer("side", 12, "image side in pixels", 4, 1024),
      real("noise", 0.15, "std of the Gaussian pixel noise", 0.0),
      integer("seed", 0, "seed of the class patterns (the run's seed shuffles)", 0)},
     make_synthetic});

}  // namespace
}  // namespace gda
