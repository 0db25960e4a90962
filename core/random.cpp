#include "core/random.h"

#include "core/hash.h"

namespace gda {

std::uint64_t derive_seed(std::uint64_t seed, const std::string& purpose) {
  // FNV-1a over the purpose, mixed with the seed by splitmix64.
  const std::uint64_t h = fnv1a(purpose, kGdaHashStart);
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (h | 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double uniform(Rng& rng, double a, double b) {
  // 53 random bits → [0, 1).
  double u = double(rng() >> 11) * (1.0 / 9007199254740992.0);
  return a + (b - a) * u;
}

std::vector<std::int64_t> permutation(std::int64_t n, Rng& rng) {
  std::vector<std::int64_t> p(n);
  for (std::int64_t i = 0; i < n; ++i) p[i] = i;
  for (std::int64_t i = n - 1; i > 0; --i) {
    std::int64_t j = std::int64_t(rng() % std::uint64_t(i + 1));
    std::swap(p[i], p[j]);
  }
  return p;
}

}  // namespace gda
