// Given domains: no transform. The source, the T intermediate domains and the target are
// consecutive slices of the data in the order the dataset gives (with data.shuffle = false):
// a CSV sorted by a column (Covertype by distance to water), image folders in a configured
// domain order (Portraits by year). The shift is in the data itself.
#include "stages/shift/generator.h"

namespace gda {
namespace {

class Ordered : public ShiftGenerator {
 public:
  explicit Ordered(const Params&) {}

  std::vector<DomainJob> plan(const DataSplit& split, std::int64_t T, std::uint64_t) const override {
    std::vector<DomainJob> jobs{job("source", 0.0, split.source)};
    const auto groups = equal_groups(split.intermediate.size(), T);
    for (std::size_t i = 0; i < groups.size(); ++i)
      jobs.push_back(job("inter" + std::to_string(i + 1), intermediate_position(std::int64_t(i), T),
                         split.intermediate.slice(groups[i].first, groups[i].second)));
    jobs.push_back(job("target", 1.0, split.target));
    return jobs;
  }

 private:
  static DomainJob job(std::string name, double t, Dataset d) {
    return {name, t, [=] { return Domain{name, t, d.x, d.y, {}}; }};
  }
};

const bool registered = generator_registry().add(
    {"ordered",
     "given domains: consecutive slices of the data in the dataset's order, untransformed (use with "
     "data.shuffle = false: a CSV sorted by a column, image folders per domain)",
     {},
     [](const Params& p) { return std::make_unique<Ordered>(p); }});

}  // namespace
}  // namespace gda
