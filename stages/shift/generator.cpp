#include "stages/shift/generator.h"

namespace gda {

GeneratorRegistry& generator_registry() {
  static GeneratorRegistry r("shift generator");
  return r;
}

std::vector<std::pair<std::int64_t, std::int64_t>> equal_groups(std::int64_t n, std::int64_t T) {
  std::vector<std::pair<std::int64_t, std::int64_t>> g;
  if (T <= 0) return g;
  std::int64_t m = n / T;
  for (std::int64_t i = 0; i < T; ++i) g.emplace_back(i * m, (i + 1) * m);
  return g;
}

double intermediate_position(std::int64_t i, std::int64_t T) { return double(i + 1) / double(T + 1); }

}  // namespace gda
