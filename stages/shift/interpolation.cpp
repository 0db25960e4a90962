// The interpolation generator (docs/GENERATORS.md). Intermediate domain i of T, at
// t = (i + 1)/(T + 1), is made from the i-th group of the intermediate pool drawn in the
// endpoints' source style (x_s) and the target's unlabelled inputs in its style (x_t):
// (1 − t)·x_s + t·x_t over pairs chosen at random or by an optimal-transport matching.
// The target's labels are never used; a mixed image keeps its source image's label, which
// only evaluation reads.
#include "core/choice.h"
#include "stages/shift/interpolation.h"

#include <torch/torch.h>

#include <stdexcept>

#include "core/error.h"
#include "core/random.h"
#include "stages/shift/generator.h"
#include "stages/shift/optimal_transport.h"

namespace gda {

torch::Tensor interpolate(const torch::Tensor& xs, const torch::Tensor& xt, const torch::Tensor& partner, double t) {
  return xs * (1.0 - t) + xt.index_select(0, partner) * t;
}

torch::Tensor random_partners(std::int64_t n_source, std::int64_t n_target, std::uint64_t seed) {
  Rng rng(seed);
  std::vector<std::int64_t> partner;
  while (std::int64_t(partner.size()) < n_source) {
    auto order = permutation(n_target, rng);
    partner.insert(partner.end(), order.begin(), order.end());
  }
  partner.resize(std::size_t(n_source));
  return torch::tensor(partner, torch::kInt64);
}

torch::Tensor ot_partners(const torch::Tensor& xs, const torch::Tensor& xt) {
  const auto s = xs.flatten(1).to(torch::kFloat32).contiguous(), t = xt.flatten(1).to(torch::kFloat32).contiguous();
  const int n = int(s.size(0)), m = int(t.size(0)), d = int(s.size(1));
  TransportPlan plan;
  try {
    plan = exact_emd_uniform(n, m, squared_euclidean_cost(s.data_ptr<float>(), n, t.data_ptr<float>(), m, d));
  } catch (const std::invalid_argument& e) {  // e.g. an empty group: fewer pool images than domains
    throw UserError(std::string("shift.pairing = \"ot\": ") + e.what() + "; check data.intermediate_size against shift.T");
  }
  if (!plan.converged) throw UserError("shift.pairing = \"ot\": the transport solver stopped before its plan was optimal");
  std::vector<std::int64_t> partner(std::size_t(n), 0);
  std::vector<double> best(std::size_t(n), -1.0);
  for (const PlanEntry& e : plan.entries)  // sorted by (i, j): a strict > keeps the lowest j on ties
    if (e.mass > best[std::size_t(e.i)]) best[std::size_t(e.i)] = e.mass, partner[std::size_t(e.i)] = e.j;
  return torch::tensor(partner, torch::kInt64);
}

namespace {

/// How source-style images are paired with target images (key pairing).
enum class Pairing { random, ot };
const Choice<Pairing> kPairing{{"random", Pairing::random}, {"ot", Pairing::ot}};

class Interpolation : public ShiftGenerator {
 public:
  explicit Interpolation(const Params& p)
      : endpoints_(make_endpoints(p, "interpolation")), by_transport_(kPairing.of(p, "pairing") == Pairing::ot) {}

  std::vector<DomainJob> plan(const DataSplit& split, std::int64_t T, std::uint64_t seed) const override {
    // The endpoints' source and target as they would make them.
    auto ends = endpoints_->plan({split.source, split.intermediate.slice(0, 0), split.target}, 0, seed);
    std::vector<DomainJob> jobs{ends.front()};
    const DomainJob target = ends.back();
    auto groups = equal_groups(split.intermediate.size(), T);
    for (std::size_t i = 0; i < groups.size(); ++i) {
      const std::string name = "inter" + std::to_string(i + 1);
      const double t = intermediate_position(std::int64_t(i), T);
      // The group in the endpoints' source style (its own draws, by seed and group).
      const Dataset group = split.intermediate.slice(groups[i].first, groups[i].second);
      const DomainJob styled = endpoints_->plan({group, group.slice(0, 0), split.target}, 0,
                                                derive_seed(seed, "interpolation/group" + std::to_string(i))).front();
      const std::uint64_t pair_seed = derive_seed(seed, "interpolation/pairs" + std::to_string(i));
      const bool by_transport = by_transport_;
      jobs.push_back({name, t, [=]() {
                        const Domain s = styled.make(), tg = target.make();
                        const torch::Tensor partner = by_transport ? ot_partners(s.x, tg.x)
                                                                   : random_partners(s.size(), tg.size(), pair_seed);
                        return Domain{name, t, interpolate(s.x, tg.x, partner, t), s.y, {}};
                      }});
    }
    jobs.push_back(target);
    return jobs;
  }

 private:
  std::unique_ptr<ShiftGenerator> endpoints_;
  bool by_transport_;
};

const bool registered = generator_registry().add(
    {"interpolation",
     "pixel-space interpolation (1 - t)·x_s + t·x_t between the source and target styles of the generator "
     "named by endpoints; pairs at random or by optimal transport",
     {text("endpoints", "rotation",
           "generator whose source and target this interpolates between (its keys join [shift])"),
      kPairing.spec("pairing", Pairing::random,
           "\"random\": each source-style image mixes with a random target image; \"ot\": with the target "
           "image that receives most of its mass in the exact optimal-transport plan in pixel space")},
     [](const Params& p) { return std::make_unique<Interpolation>(p); }});

}  // namespace
}  // namespace gda
