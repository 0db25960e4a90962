// The ot_path generator (docs/GENERATORS.md): the given domains come from the generator
// named by shift.endpoints; between each two of them, inside the adaptation loop, it
// encodes both with the model adapted so far and makes `generated` domains on the optimal
// transport path between their features. Only the head trains on them (and on the next
// given domain's features), as in GOAT, whose encoder stays the source model's (GOAT splits
// its CNN after the convolutions: model.features = "conv").
#include "stages/shift/ot_path.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>

#include "core/error.h"
#include "stages/eval/evaluator.h"
#include "stages/models/model.h"
#include "stages/shift/generator.h"

namespace gda {

namespace {

/// ||z_i − z_j||² as ||z_i||² + ||z_j||² − 2 z_i·z_j through one BLAS product in double:
/// GOAT's conv features have 25,088 dimensions, where the exact pairwise sums
/// (squared_euclidean_cost) take a minute and this takes seconds. Rounding can leave ~1e-12
/// relative where the cost is 0; negatives are clamped.
std::vector<double> feature_cost(const torch::Tensor& a, const torch::Tensor& b) {
  const auto x = a.to(torch::kFloat64), y = b.to(torch::kFloat64);
  // On the features' device (a GPU's product is the expensive part); the solvers read it on the CPU.
  const auto c = (x.pow(2).sum(1, true) + y.pow(2).sum(1).unsqueeze(0) - 2.0 * x.matmul(y.t()))
                     .clamp_min(0.0)
                     .to(torch::kCPU)
                     .contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

TransportPlan feature_plan(const torch::Tensor& zs, const torch::Tensor& zt, const TransportSettings& s) {
  const auto a = zs.flatten(1).to(torch::kFloat32).contiguous(), b = zt.flatten(1).to(torch::kFloat32).contiguous();
  const int n = int(a.size(0)), m = int(b.size(0));
  if (n == 0 || m == 0)
    throw UserError(fmt::format("ot_path: cannot transport between domains of {} and {} samples; give both "
                                "domains data (data.*_size)", n, m));
  // Checked before the n·m cost matrix is made: both limits would only fail later, slower.
  if (double(n) * double(m) > 1e8)
    throw UserError(fmt::format("ot_path: a plan between {} and {} samples needs {:.1f} GB for its cost matrix; "
                                "make the domains smaller (data.*_size, or more given domains: shift.T)", n, m,
                                double(n) * double(m) * 8 / 1e9));
  const std::size_t sample_limit = 50 * std::size_t(n + m);
  if (s.solver == Solver::sinkhorn && s.entry_cutoff <= 0 && std::size_t(n) * std::size_t(m) > sample_limit)
    throw UserError(fmt::format("ot_path: solver = \"sinkhorn\" gives a dense plan, one generated sample per pair of "
                                "the {} × {} points; set shift.entry_cutoff (e.g. 1 keeps the entries above the "
                                "uniform plan's 1/(n·m))", n, m));
  const std::vector<double> cost = feature_cost(a, b);
  TransportPlan plan;
  try {
    if (s.solver == Solver::sinkhorn) {
      double mean = 0;
      for (double c : cost) mean += c;
      mean /= double(cost.size());
      const std::vector<double> ua(std::size_t(n), 1.0 / n), ub(std::size_t(m), 1.0 / m);
      plan = sinkhorn_log(ua, ub, cost, s.sinkhorn_reg * (mean > 0 ? mean : 1.0));
    } else {
      plan = exact_emd_uniform(n, m, cost);
    }
  } catch (const std::invalid_argument& e) {
    throw UserError(fmt::format("ot_path: {}", e.what()));
  }
  if (!plan.converged)
    throw UserError(fmt::format("ot_path: the {} solver stopped after {} iterations before its plan met the "
                                "marginals{}", solver_choice().name(s.solver), plan.iterations,
                                s.solver == Solver::sinkhorn ? "; raise shift.sinkhorn_reg" : ""));
  if (s.entry_cutoff > 0) {
    const double floor = s.entry_cutoff / (double(n) * double(m));
    auto& e = plan.entries;
    e.erase(std::remove_if(e.begin(), e.end(), [&](const PlanEntry& x) { return x.mass < floor; }), e.end());
  }
  if (plan.entries.size() > sample_limit)
    throw UserError(fmt::format("ot_path: the {} plan has {} entries for {} × {} points, each a sample of every "
                                "generated domain; raise shift.entry_cutoff (e.g. 1 keeps entries above the "
                                "uniform plan's 1/(n·m))", solver_choice().name(s.solver), plan.entries.size(), n, m));
  return plan;
}

Domain pushforward(const torch::Tensor& zs, const torch::Tensor& ys, const torch::Tensor& zt,
                   const TransportPlan& plan, double t) {
  const auto k = std::int64_t(plan.entries.size());
  std::vector<std::int64_t> is, js;
  std::vector<double> mass;
  is.reserve(std::size_t(k)), js.reserve(std::size_t(k)), mass.reserve(std::size_t(k));
  for (const PlanEntry& e : plan.entries) is.push_back(e.i), js.push_back(e.j), mass.push_back(e.mass);
  const auto on = torch::TensorOptions().dtype(torch::kInt64).device(zs.device());
  const auto i = torch::tensor(is, torch::kInt64).to(on), j = torch::tensor(js, torch::kInt64).to(on);
  Domain d;
  d.position = t;
  d.x = zs.index_select(0, i) * (1.0 - t) + zt.index_select(0, j) * t;
  if (ys.defined()) d.y = ys.index_select(0, i);
  d.weight = torch::tensor(mass, torch::kFloat64).to(zs.device(), torch::kFloat32);
  return d;
}

const Choice<Solver>& solver_choice() {
  static const Choice<Solver> choice{{"emd", Solver::emd}, {"sinkhorn", Solver::sinkhorn}};
  return choice;
}

namespace {

class OtPath : public ShiftGenerator {
 public:
  explicit OtPath(const Params& p)
      : endpoints_(make_endpoints(p, "ot_path")), generated_(p.integer("generated")),
        settings_{solver_choice().of(p, "solver"), p.real("sinkhorn_reg"), p.real("entry_cutoff")} {}

  std::vector<DomainJob> plan(const DataSplit& split, std::int64_t T, std::uint64_t seed) const override {
    return endpoints_->plan(split, T, seed);
  }

  bool makes_segments() const override { return true; }

  std::optional<PathSegment> segment(Model& current, const Domain& from, const Domain& to,
                                     std::int64_t inference_batch, std::uint64_t) const override {
    const torch::Tensor zs = encode_all(current, from.x, inference_batch), zt = encode_all(current, to.x, inference_batch);
    const TransportPlan plan = feature_plan(zs, zt, settings_);
    PathSegment segment;
    segment.features = true;
    for (std::int64_t i = 1; i <= generated_; ++i) {
      const double t = double(i) / double(generated_ + 1);
      Domain d = pushforward(zs, from.y, zt, plan, t);
      d.name = fmt::format("ot{}", i);
      d.position = from.position + t * (to.position - from.position);
      segment.domains.push_back(std::move(d));
    }
    segment.domains.push_back(Domain{to.name, to.position, zt, to.y, {}});
    return segment;
  }

 private:
  std::unique_ptr<ShiftGenerator> endpoints_;
  std::int64_t generated_;
  TransportSettings settings_;
};

const bool registered = generator_registry().add(
    {"ot_path",
     "GOAT: between given domains (from endpoints, T of them in between), `generated` domains on the optimal "
     "transport path between their encoded features, made inside the adaptation loop; the head self-trains on "
     "them with plan-mass weights",
     {text("endpoints", "rotation", "generator that makes the given domains (its keys join [shift])"),
      integer("generated", 4, "domains generated between each two given domains, at t = i/(generated + 1)", 1),
      solver_choice().spec("solver", Solver::emd, "\"emd\": exact transport (network simplex); \"sinkhorn\": entropic, log domain"),
      real("sinkhorn_reg", 0.05, "Sinkhorn's regularisation, as a fraction of the mean transport cost", 1e-6),
      real("entry_cutoff", 0.0,
           "drop plan entries below entry_cutoff/(n·m) (the uniform plan's entry); 0 keeps every nonzero entry",
           0.0)},
     [](const Params& p) { return std::make_unique<OtPath>(p); }});

}  // namespace
}  // namespace gda
