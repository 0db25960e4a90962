#include "stages/shift/generator.h"

#include <fmt/format.h>

#include "core/error.h"

namespace gda {

GeneratorRegistry& generator_registry() {
  static GeneratorRegistry r("shift generator");
  return r;
}

bool composes_endpoints(const std::string& name) {
  const auto* g = generator_registry().find(name);
  if (!g) return false;
  for (const auto& k : g->params)
    if (k.name == "endpoints") return true;
  return false;
}

std::unique_ptr<ShiftGenerator> make_endpoints(const Params& shift, const std::string& self) {
  const std::string& name = shift.text("endpoints");
  if (composes_endpoints(name))
    throw UserError(fmt::format("shift.endpoints = \"{}\": {} needs the endpoints of a generator that makes "
                                "domains itself, e.g. \"rotation\" or \"colour\"", name, self));
  return generator_registry().get(name).make(shift);
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
