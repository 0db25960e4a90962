#pragma once
// Shift generators make the domains of a run. Input-space generators (rotation, …) make
// every domain before training; each domain is one independent job, so the run's flow
// graph makes them in parallel.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace gda {

/// The shuffled pool of a run, cut as [data] says: labelled source, the pool the
/// intermediate domains are made from, and the target.
struct DataSplit {
  Dataset source, intermediate, target;
};

/// A domain to make: its place on the path and the function that makes it. make() must
/// not touch shared mutable state: jobs run concurrently.
struct DomainJob {
  std::string name;
  double position = 0.0;
  std::function<Domain()> make;
};

class ShiftGenerator {
 public:
  virtual ~ShiftGenerator() = default;
  /// The domains in path order: source first, then T intermediates, then target.
  /// All randomness is drawn here from `seed`, so the jobs are deterministic.
  virtual std::vector<DomainJob> plan(const DataSplit& split, std::int64_t T,
                                      std::uint64_t seed) const = 0;
};

using GeneratorFactory = std::function<std::unique_ptr<ShiftGenerator>(const Params&)>;
using GeneratorRegistry = Registry<GeneratorFactory>;
GeneratorRegistry& generator_registry();

/// Cuts n items into T consecutive groups of floor(n/T); the remainder is left out so all
/// intermediate domains have equal size. Returns the [begin, end) of each group.
std::vector<std::pair<std::int64_t, std::int64_t>> equal_groups(std::int64_t n, std::int64_t T);

/// Position of intermediate domain i (0-based) of T on the path: (i + 1) / (T + 1).
double intermediate_position(std::int64_t i, std::int64_t T);

}  // namespace gda
