// The discovered generator (issue 18; docs/GENERATORS.md): the intermediate data comes as one
// unindexed pool (every intermediate domain the endpoints generator makes, shuffled
// together), and the order from the source to the target is discovered inside the adaptation
// loop, in pixel space or in the adapted model's feature space, then cut into T domains.
// The true domain of each pool row is kept for analysis only: the order file and Kendall's τ.
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "core/error.h"
#include "core/random.h"
#include "core/stopwatch.h"
#include "stages/eval/evaluator.h"
#include "stages/models/model.h"
#include "stages/shift/generator.h"
#include "stages/shift/idol_refinement.h"
#include "stages/shift/order_discovery.h"

namespace gda {
namespace {

/// What the pool and target jobs leave for segment(): the true domain of each pool row
/// (1…T, never used to order) and the target's inputs (graph_path and domain_classifier
/// need both ends).
struct PoolFacts {
  std::mutex mutex;
  torch::Tensor truth, target_x;
};

/// What the order is found in (key features).
enum class Features { pixels, encoder };
const Choice<Features> kFeatures{{"pixels", Features::pixels}, {"encoder", Features::encoder}};

class Discovered : public ShiftGenerator {
 public:
  explicit Discovered(const Params& p)
      : endpoints_(make_endpoints(p, "discovered")), endpoints_name_(p.text("endpoints")),
        pixels_(kFeatures.of(p, "features") == Features::pixels) {
    settings_.method = order_by_choice().of(p, "order_by");
    settings_.neighbours = int(p.integer("neighbours"));
    settings_.rounds = int(p.integer("rounds"));
    settings_.sinkhorn_reg = p.real("sinkhorn_reg");
    idol_.meta_steps = int(p.integer("refine_steps"));
    idol_.meta_rate = p.real("refine_rate");
    idol_.inner_lr = p.real("inner_lr");
    idol_.epochs = int(p.integer("refine_epochs"));
  }

  std::vector<DomainJob> plan(const DataSplit& split, std::int64_t T, std::uint64_t seed) const override {
    if (T < 1) throw UserError("shift.generator = \"discovered\" needs shift.T ≥ 1 domains to cut the pool into");
    auto given = endpoints_->plan(split, T, seed);  // source, T intermediates, target
    if (given.size() < 3)
      throw UserError(fmt::format("shift.generator = \"discovered\": endpoints = \"{}\" made no intermediate domain "
                                  "to pool; give it shift.T ≥ 1 and data.intermediate_size > 0", endpoints_name_));
    std::vector<DomainJob> intermediates(given.begin() + 1, given.end() - 1);
    const DomainJob target = given.back();
    // One plan per object (a run makes its own generator): a second plan starts afresh.
    domains_ = T;
    facts_ = std::make_shared<PoolFacts>();
    auto facts = facts_;
    const std::uint64_t shuffle_seed = derive_seed(seed, "discovered/shuffle");
    DomainJob pool{"pool", 0.5, [intermediates, facts, shuffle_seed]() {
                     std::vector<torch::Tensor> xs, ys, truth;
                     for (std::size_t i = 0; i < intermediates.size(); ++i) {
                       const Domain d = intermediates[i].make();
                       xs.push_back(d.x), ys.push_back(d.y);
                       truth.push_back(torch::full({d.size()}, std::int64_t(i + 1), torch::kInt64));
                     }
                     Rng rng(shuffle_seed);
                     const auto all_x = torch::cat(xs);
                     const auto order = permutation(all_x.size(0), rng);
                     const auto index = torch::tensor(order, torch::kInt64).to(all_x.device());
                     std::lock_guard<std::mutex> lock(facts->mutex);
                     facts->truth = torch::cat(truth).to(all_x.device()).index_select(0, index);
                     return Domain{"pool", 0.5, all_x.index_select(0, index), torch::cat(ys).index_select(0, index), {}};
                   }};
    DomainJob kept_target{target.name, target.position, [target, facts]() {
                            Domain d = target.make();
                            std::lock_guard<std::mutex> lock(facts->mutex);
                            facts->target_x = d.x;
                            return d;
                          }};
    return {given.front(), pool, kept_target};
  }

  bool makes_segments() const override { return true; }

  std::optional<PathSegment> segment(Model& current, const Domain& from, const Domain& to, std::int64_t batch,
                                     std::uint64_t seed) const override {
    if (to.name != "pool") return std::nullopt;  // pool → target: the target itself
    const auto t0 = Clock::now();
    torch::Tensor truth, target_x;
    {
      std::lock_guard<std::mutex> lock(facts_->mutex);
      truth = facts_->truth, target_x = facts_->target_x.to(to.x.device());
    }
    if (truth.numel() != to.size())
      throw std::logic_error("discovered: the pool handed to segment() is not the one its plan made");
    auto features = [&](const torch::Tensor& x) { return pixels_ ? x.flatten(1) : encode_all(current, x, batch); };
    std::vector<double> coarse, scores;
    if (settings_.method == OrderBy::idol) {  // the discriminator's coarse order, refined with the model
      DiscoverySettings first = settings_;
      first.method = OrderBy::domain_classifier;
      try {
        coarse = order_scores(features(from.x), features(to.x), features(target_x), first, seed);
      } catch (const NumericError& e) {  // named as the user named the method
        throw NumericError(std::string("shift.order_by = \"idol\", its coarse step: ") + e.what(), "order discovery", 0);
      }
      IdolSettings idol = idol_;
      idol.chunk = std::min<std::int64_t>(batch, idol.chunk);
      scores = idol_scores(current, from.x, from.y, to.x, coarse, domains_, idol, seed);
    } else {
      scores = order_scores(features(from.x), features(to.x), features(target_x), settings_, seed);
    }
    const auto order = order_by_score(scores);
    PathSegment segment;
    const auto groups = equal_groups(std::int64_t(order.size()), domains_);
    std::vector<std::int64_t> domain_of(order.size(), 0);
    for (std::size_t g = 0; g < groups.size(); ++g) {
      std::vector<std::int64_t> members(order.begin() + groups[g].first, order.begin() + groups[g].second);
      for (auto m : members) domain_of[std::size_t(m)] = std::int64_t(g + 1);
      const auto index = torch::tensor(members, torch::kInt64).to(to.x.device());
      segment.domains.push_back({"found" + std::to_string(g + 1), intermediate_position(std::int64_t(g), domains_),
                                 to.x.index_select(0, index), to.y.index_select(0, index), {}});
    }
    record(segment, scores, coarse, domain_of, truth, seconds_since(t0));
    return segment;
  }

 private:
  /// The order file and Kendall's τ of the scores against the true domains; idol's file also
  /// gives each row's place in the coarse order it refined.
  void record(PathSegment& segment, const std::vector<double>& scores, const std::vector<double>& coarse,
              const std::vector<std::int64_t>& domain_of, const torch::Tensor& truth, double seconds) const {
    const auto t = truth.to(torch::kCPU).contiguous();
    std::vector<double> true_domain(t.data_ptr<std::int64_t>(), t.data_ptr<std::int64_t>() + t.numel());
    std::string csv = coarse.empty() ? "pool_index,score,domain,true_domain\n"
                                     : "pool_index,score,domain,true_domain,coarse_score\n";
    for (std::size_t i = 0; i < scores.size(); ++i) {
      csv += fmt::format("{},{:.8g},{},{}", i, scores[i], domain_of[i], std::int64_t(true_domain[i]));
      csv += coarse.empty() ? "\n" : fmt::format(",{:.8g}\n", coarse[i]);
    }
    segment.files.push_back({"discovered_order.csv", csv});
    segment.order_tau = kendall_tau(scores, true_domain);
    segment.seconds = seconds;
  }

  std::unique_ptr<ShiftGenerator> endpoints_;
  std::string endpoints_name_;
  bool pixels_;
  DiscoverySettings settings_;
  IdolSettings idol_;
  // From the latest plan(), for segment(): T, and what its pool and target jobs leave.
  mutable std::int64_t domains_ = 1;
  mutable std::shared_ptr<PoolFacts> facts_ = std::make_shared<PoolFacts>();
};

const bool registered = generator_registry().add(
    {"discovered",
     "an unindexed pool (every intermediate domain of endpoints, shuffled together) ordered from the source to "
     "the target by order_by inside the adaptation loop, then cut into T domains (Chen and Chao, NeurIPS 2021)",
     {text("endpoints", "rotation", "generator whose intermediate domains make the pool (its keys join [shift])"),
      order_by_choice().spec("order_by", OrderBy::graph_path,
           "\"random\" (the control), \"ot_distance\" (transport cost to the source), \"graph_path\" (shortest "
           "paths through a k-nearest-neighbour graph), \"domain_classifier\" (IDOL's progressive discriminator), "
           "\"idol\" (that order refined by IDOL's cycle-consistency with the model)"),
      kFeatures.spec("features", Features::pixels, "what the order is found in: \"pixels\", or \"encoder\" (the model adapted so far)"),
      integer("neighbours", 10, "graph_path: k of the k-nearest-neighbour graph", 1, 1000),
      integer("rounds", 20, "domain_classifier: progressive rounds (IDOL: twice the number of domains)", 1, 10000),
      real("sinkhorn_reg", 0.05, "ot_distance: entropic regularisation, as a fraction of the mean cost", 1e-6),
      integer("refine_steps", 1, "idol: gradient steps on the candidate weights per domain", 1, 100),
      real("refine_rate", 0.1, "idol: how far a step moves the weights (they start spread over [0, 1])", 1e-6, 1e6),
      real("inner_lr", 0.01, "idol: learning rate of the unrolled SGD steps to the candidates and back", 1e-8, 100.0),
      integer("refine_epochs", 5, "idol: epochs the proxy model self-trains on each chosen domain", 0, 1000)},
     [](const Params& p) { return std::make_unique<Discovered>(p); }});

}  // namespace
}  // namespace gda
