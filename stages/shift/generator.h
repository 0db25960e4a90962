#pragma once
// Shift generators make the domains of a run. Input-space generators (rotation, …) make
// every domain before training; each domain is one independent job, so the run's flow
// graph makes them in parallel.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datasets/dataset.h"

namespace gda {

class Model;

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

/// What the adaptation loop trains on to get from one given domain to the next, when a
/// generator makes it from the model adapted so far (ShiftGenerator::segment).
struct PathSegment {
  /// In training order. ot_path's last is the next given domain itself; the discovered
  /// generator's are the pool's found domains, and the pipeline trains on the target after
  /// them as its own stage.
  std::vector<Domain> domains;
  /// The domains hold the encoder's features: the encoder stays frozen and only the head
  /// trains on them (stages/models/head_view.h).
  bool features = false;
  /// Files for the run folder (name, contents), e.g. the discovered generator's order.
  std::vector<std::pair<std::string, std::string>> files;
  /// Where the generator knows the true order (analysis only): Kendall's τ of its order
  /// against it, recorded on the segment's stages.
  std::optional<double> order_tau;
  double seconds = 0;  ///< what making the segment took (recorded with order_tau)
};

class ShiftGenerator {
 public:
  virtual ~ShiftGenerator() = default;
  /// The domains in path order: source first, then T intermediates, then target.
  /// All randomness is drawn here from `seed`, so the jobs are deterministic.
  virtual std::vector<DomainJob> plan(const DataSplit& split, std::int64_t T,
                                      std::uint64_t seed) const = 0;

  /// Whether segment() makes domains: then T = 0 still adapts (through what it makes
  /// between source and target) instead of being zero-shot.
  virtual bool makes_segments() const { return false; }

  /// Model-aware generators (ot_path) make their domains inside the adaptation loop: before
  /// the stage on given domain `to`, with `current` the model adapted through `from`. The
  /// default, nothing, trains on `to` itself. seed is derived per segment.
  virtual std::optional<PathSegment> segment(Model& current, const Domain& from, const Domain& to,
                                             std::int64_t inference_batch, std::uint64_t seed) const {
    (void)current, (void)from, (void)to, (void)inference_batch, (void)seed;
    return std::nullopt;
  }
};

using GeneratorFactory = std::function<std::unique_ptr<ShiftGenerator>(const Params&)>;
using GeneratorRegistry = Registry<GeneratorFactory>;
GeneratorRegistry& generator_registry();

/// Whether generator `name` declares an "endpoints" key: it composes with the generator
/// that key names, whose keys then join [shift] (e.g. interpolation over rotation).
bool composes_endpoints(const std::string& name);

/// The generator that shift.endpoints names, for generators that compose with another one
/// (interpolation, ot_path). Refuses one that composes itself, which would recurse.
std::unique_ptr<ShiftGenerator> make_endpoints(const Params& shift, const std::string& self);

/// Cuts n items into T consecutive groups of floor(n/T); the remainder is left out so all
/// intermediate domains have equal size. Returns the [begin, end) of each group.
std::vector<std::pair<std::int64_t, std::int64_t>> equal_groups(std::int64_t n, std::int64_t T);

/// Position of intermediate domain i (0-based) of T on the path: (i + 1) / (T + 1).
double intermediate_position(std::int64_t i, std::int64_t T);

}  // namespace gda
