// Optimal transport solvers: the exact network simplex against brute force over permutations
// (tiny problems), Boost.Graph's min-cost flow (uneven sizes and masses), a hand-computed
// plan, and its own dual potentials (an optimality certificate on random problems);
// Sinkhorn approaching it as reg shrinks; degenerate and invalid inputs.
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/successive_shortest_path_nonnegative_weights.hpp>
#include <boost/graph/find_flow_cost.hpp>  // after: it needs the named-parameter headers

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "stages/shift/optimal_transport.h"

namespace gda::test {
namespace {

constexpr double kPi = 3.14159265358979323846;

/// Uniform in (0, 1) from 32 random bits: the same numbers with every standard library
/// (std::uniform_real_distribution's algorithm is left to the implementation).
double uniform01(std::mt19937& rng) { return (double(rng()) + 0.5) / 4294967296.0; }

/// One standard normal draw by Box–Muller (the cosine half).
double standard_normal(std::mt19937& rng) {
  const double radius = std::sqrt(-2.0 * std::log(uniform01(rng)));
  return radius * std::cos(2.0 * kPi * uniform01(rng));
}

/// n points in d dimensions, row-major, each coordinate N(offset, 1).
std::vector<float> normal_points(int n, int d, std::mt19937& rng, double offset = 0.0) {
  std::vector<float> points(static_cast<std::size_t>(n) * d);
  for (float& p : points) p = static_cast<float>(standard_normal(rng) + offset);
  return points;
}

/// Random positive masses summing to 1.
std::vector<double> random_masses(int n, std::mt19937& rng) {
  std::vector<double> w(static_cast<std::size_t>(n));
  for (double& x : w) x = 0.05 + uniform01(rng);
  const double sum = std::accumulate(w.begin(), w.end(), 0.0);
  for (double& x : w) x /= sum;
  return w;
}

std::vector<double> uniform_masses(int n) { return std::vector<double>(static_cast<std::size_t>(n), 1.0 / n); }

double largest(const std::vector<double>& values) { return *std::max_element(values.begin(), values.end()); }

void expect_marginals(const TransportPlan& plan, const std::vector<double>& a, const std::vector<double>& b,
                      double tolerance) {
  std::vector<double> rows(a.size(), 0.0), columns(b.size(), 0.0);
  for (const PlanEntry& e : plan.entries) {
    ASSERT_GE(e.i, 0);
    ASSERT_LT(e.i, static_cast<int>(a.size()));
    ASSERT_GE(e.j, 0);
    ASSERT_LT(e.j, static_cast<int>(b.size()));
    EXPECT_GT(e.mass, 0.0);
    rows[e.i] += e.mass;
    columns[e.j] += e.mass;
  }
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(rows[i], a[i], tolerance) << "row " << i;
  for (std::size_t j = 0; j < b.size(); ++j) EXPECT_NEAR(columns[j], b[j], tolerance) << "column " << j;
}

/// L1 distance of the plan's row sums from a and of its column sums from b.
std::pair<double, double> marginal_errors(const TransportPlan& plan, const std::vector<double>& a,
                                          const std::vector<double>& b) {
  std::vector<double> rows(a.size(), 0.0), columns(b.size(), 0.0);
  for (const PlanEntry& e : plan.entries) {
    rows[e.i] += e.mass;
    columns[e.j] += e.mass;
  }
  double row_error = 0, column_error = 0;
  for (std::size_t i = 0; i < a.size(); ++i) row_error += std::abs(rows[i] - a[i]);
  for (std::size_t j = 0; j < b.size(); ++j) column_error += std::abs(columns[j] - b[j]);
  return {row_error, column_error};
}

/// The plan's duals prove it optimal by LP duality, independently of how it was found:
/// u_i + v_j ≤ C_ij for all (i, j) (dual feasibility), equality on every plan entry
/// (complementary slackness), hence Σ a_i u_i + Σ b_j v_j equals the plan's cost.
void expect_optimality_certificate(const TransportPlan& plan, const std::vector<double>& a,
                                   const std::vector<double>& b, const std::vector<double>& cost) {
  const std::size_t n = a.size(), m = b.size();
  ASSERT_EQ(plan.u.size(), n);
  ASSERT_EQ(plan.v.size(), m);
  double worst_violation = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < m; ++j)
      worst_violation = std::max(worst_violation, plan.u[i] + plan.v[j] - cost[i * m + j]);
  EXPECT_LE(worst_violation, 1e-9);
  for (const PlanEntry& e : plan.entries)
    EXPECT_NEAR(plan.u[e.i] + plan.v[e.j], cost[std::size_t(e.i) * m + e.j], 1e-9) << "entry " << e.i << ", " << e.j;
  double dual = 0;
  for (std::size_t i = 0; i < n; ++i) dual += a[i] * plan.u[i];
  for (std::size_t j = 0; j < m; ++j) dual += b[j] * plan.v[j];
  EXPECT_NEAR(dual, plan.cost, 1e-9 * std::max(1.0, std::abs(plan.cost)));
}

/// min over permutations p of (1/n) Σ_i C_i,p(i). With uniform masses and n = m, some optimal
/// plan is a permutation matrix / n (Birkhoff–von Neumann), so this is the exact optimum.
double best_permutation_cost(const std::vector<double>& cost, int n) {
  std::vector<int> p(static_cast<std::size_t>(n));
  std::iota(p.begin(), p.end(), 0);
  double best = std::numeric_limits<double>::infinity();
  do {
    double total = 0;
    for (int i = 0; i < n; ++i) total += cost[std::size_t(i) * n + p[i]];
    best = std::min(best, total);
  } while (std::next_permutation(p.begin(), p.end()));
  return best / n;
}

// Boost.Graph's min-cost flow, with each arc paired with its reverse (capacity 0, cost −c) as
// its successive-shortest-path algorithm wants.
using FlowTraits = boost::adjacency_list_traits<boost::vecS, boost::vecS, boost::directedS>;
using FlowGraph = boost::adjacency_list<
    boost::vecS, boost::vecS, boost::directedS, boost::no_property,
    boost::property<boost::edge_capacity_t, long,
                    boost::property<boost::edge_residual_capacity_t, long,
                                    boost::property<boost::edge_reverse_t, FlowTraits::edge_descriptor,
                                                    boost::property<boost::edge_weight_t, long>>>>>;

void add_flow_arc(FlowGraph& g, int from, int to, long capacity, long cost) {
  const auto forward = boost::add_edge(from, to, g).first;
  const auto backward = boost::add_edge(to, from, g).first;
  boost::put(boost::edge_capacity, g, forward, capacity);
  boost::put(boost::edge_capacity, g, backward, 0L);
  boost::put(boost::edge_weight, g, forward, cost);
  boost::put(boost::edge_weight, g, backward, -cost);
  boost::put(boost::edge_reverse, g, forward, backward);
  boost::put(boost::edge_reverse, g, backward, forward);
}

/// The least cost of shipping supply[i] units from each source i to demand[j] units at each
/// target j at cost[i·m + j] per unit, by Boost.Graph's successive shortest paths: another
/// algorithm than the network simplex, and exact integer arithmetic.
long boost_min_cost_flow(const std::vector<long>& supply, const std::vector<long>& demand,
                         const std::vector<long>& cost) {
  const int n = static_cast<int>(supply.size()), m = static_cast<int>(demand.size());
  const int source = 0, sink = n + m + 1;  // sources 1..n, targets n+1..n+m
  const long total = std::accumulate(supply.begin(), supply.end(), 0L);
  FlowGraph g(static_cast<std::size_t>(n + m + 2));
  for (int i = 0; i < n; ++i) add_flow_arc(g, source, 1 + i, supply[i], 0);
  for (int j = 0; j < m; ++j) add_flow_arc(g, 1 + n + j, sink, demand[j], 0);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < m; ++j) add_flow_arc(g, 1 + i, 1 + n + j, total, cost[std::size_t(i) * m + j]);
  boost::successive_shortest_path_nonnegative_weights(g, source, sink);
  // All supply must have left the source: otherwise the cost is of a smaller flow.
  long shipped = 0;
  auto [arc, end] = boost::out_edges(source, g);
  for (; arc != end; ++arc)
    shipped += boost::get(boost::edge_capacity, g, *arc) - boost::get(boost::edge_residual_capacity, g, *arc);
  EXPECT_EQ(shipped, total);
  return boost::find_flow_cost(g);
}

/// Checks exact_emd on integer masses (units / total) and integer costs against Boost.
void expect_same_cost_as_boost(const std::vector<long>& supply_units, const std::vector<long>& demand_units,
                               const std::vector<long>& integer_cost) {
  const long total = std::accumulate(supply_units.begin(), supply_units.end(), 0L);
  std::vector<double> a, b, cost(integer_cost.begin(), integer_cost.end());
  for (long s : supply_units) a.push_back(double(s) / double(total));
  for (long d : demand_units) b.push_back(double(d) / double(total));
  const TransportPlan plan = exact_emd(a, b, cost);
  EXPECT_TRUE(plan.converged);
  expect_marginals(plan, a, b, 1e-12);
  const double expected = double(boost_min_cost_flow(supply_units, demand_units, integer_cost)) / double(total);
  EXPECT_NEAR(plan.cost, expected, 1e-12 * std::max(1.0, expected)) << supply_units.size() << "×" << demand_units.size();
  expect_optimality_certificate(plan, a, b, cost);
}

/// What the call throws as std::invalid_argument, or a note that it threw nothing.
std::string invalid_argument_message(const std::function<void()>& call) {
  try {
    call();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no std::invalid_argument)";
}

TEST(OptimalTransport, SquaredEuclideanCostOfHandPoints) {
  // x = {(0, 0), (1, 2)}, y = {(0, 1), (3, 0), (1, 2)}.
  const std::vector<float> x{0, 0, 1, 2}, y{0, 1, 3, 0, 1, 2};
  const std::vector<double> expected{1, 9, 5,   // |(0,0)−(0,1)|² = 1, −(3,0): 9, −(1,2): 1 + 4
                                     2, 8, 0};  // (1,2)−(0,1): 1 + 1, −(3,0): 4 + 4, itself: 0
  EXPECT_EQ(squared_euclidean_cost(x.data(), 2, y.data(), 3, 2), expected);
}

TEST(OptimalTransport, ExactPlanOfHandComputedOneDimensionalCase) {
  // x = {0, 1}, y = {0.5, 3}, masses 1/2 each. C = [[0.25, 9], [0.25, 4]].
  // Both plans are permutations / 2: x0→y0, x1→y1 costs (0.25 + 4)/2 = 2.125;
  // x0→y1, x1→y0 costs (9 + 0.25)/2 = 4.625. So the plan is the identity, cost 2.125.
  const std::vector<float> x{0, 1}, y{0.5f, 3};
  const auto cost = squared_euclidean_cost(x.data(), 2, y.data(), 2, 1);
  ASSERT_EQ(cost, (std::vector<double>{0.25, 9, 0.25, 4}));
  const TransportPlan plan = exact_emd_uniform(2, 2, cost);
  ASSERT_EQ(plan.entries.size(), 2u);
  EXPECT_EQ(plan.entries[0].i, 0);
  EXPECT_EQ(plan.entries[0].j, 0);
  EXPECT_DOUBLE_EQ(plan.entries[0].mass, 0.5);
  EXPECT_EQ(plan.entries[1].i, 1);
  EXPECT_EQ(plan.entries[1].j, 1);
  EXPECT_DOUBLE_EQ(plan.entries[1].mass, 0.5);
  EXPECT_DOUBLE_EQ(plan.cost, 2.125);
  expect_optimality_certificate(plan, uniform_masses(2), uniform_masses(2), cost);
}

TEST(OptimalTransport, ExactPlanMatchesTheBestPermutationOnTinyProblems) {
  std::mt19937 rng(6);
  for (int n = 1; n <= 6; ++n)
    for (int trial = 0; trial < 8; ++trial) {
      const auto x = normal_points(n, 3, rng), y = normal_points(n, 3, rng);
      const auto cost = squared_euclidean_cost(x.data(), n, y.data(), n, 3);
      const TransportPlan plan = exact_emd_uniform(n, n, cost);
      EXPECT_TRUE(plan.converged);
      const double best = best_permutation_cost(cost, n);
      EXPECT_NEAR(plan.cost, best, 1e-12 * best) << "n = " << n << ", trial " << trial;
      expect_marginals(plan, uniform_masses(n), uniform_masses(n), 1e-12);
    }
}

TEST(OptimalTransport, ExactPlanMatchesBoostMinCostFlowOnUnevenSizes) {
  std::mt19937 rng(35);
  // Uniform masses on n and m points are n·m/n = m and n units out of n·m.
  for (const auto& [n, m] : std::vector<std::pair<int, int>>{{3, 5}, {7, 4}, {1, 6}, {6, 1}, {9, 13}}) {
    std::vector<long> cost(static_cast<std::size_t>(n) * m);
    for (long& c : cost) c = long(rng() % 1000);
    expect_same_cost_as_boost(std::vector<long>(std::size_t(n), m), std::vector<long>(std::size_t(m), n), cost);
  }
}

TEST(OptimalTransport, ExactPlanMatchesBoostMinCostFlowOnUnevenMasses) {
  std::mt19937 rng(36);
  for (const auto& [n, m] : std::vector<std::pair<int, int>>{{3, 5}, {7, 4}, {10, 12}}) {
    // Source units 1..9 each; the same total split over the targets, at least 1 each.
    std::vector<long> supply(static_cast<std::size_t>(n)), demand(static_cast<std::size_t>(m), 1);
    for (long& s : supply) s = 1 + long(rng() % 9);
    const long total = std::accumulate(supply.begin(), supply.end(), 0L);
    ASSERT_GE(total, m);
    for (long unit = m; unit < total; ++unit) ++demand[rng() % unsigned(m)];
    std::vector<long> cost(static_cast<std::size_t>(n) * m);
    for (long& c : cost) c = long(rng() % 100);  // few values: many ties, degenerate pivots
    expect_same_cost_as_boost(supply, demand, cost);
  }
}

TEST(OptimalTransport, DualPotentialsCertifyOptimalityOnRandomProblems) {
  std::mt19937 rng(50);
  for (int trial = 0; trial < 5; ++trial) {
    const int n = 50, m = 70, d = 5;
    const auto x = normal_points(n, d, rng), y = normal_points(m, d, rng, 0.3);
    const auto cost = squared_euclidean_cost(x.data(), n, y.data(), m, d);
    const auto a = random_masses(n, rng), b = random_masses(m, rng);
    const TransportPlan plan = exact_emd(a, b, cost);
    EXPECT_TRUE(plan.converged);
    EXPECT_LE(plan.entries.size(), std::size_t(n + m - 1));  // a vertex of the transport polytope
    expect_marginals(plan, a, b, 1e-12);
    expect_optimality_certificate(plan, a, b, cost);
  }
}

TEST(OptimalTransport, PointsWithoutMassGetNothing) {
  std::mt19937 rng(8);
  const auto x = normal_points(4, 2, rng), y = normal_points(5, 2, rng);
  const auto cost = squared_euclidean_cost(x.data(), 4, y.data(), 5, 2);
  const std::vector<double> a{0.5, 0.0, 0.25, 0.25}, b{0.0, 0.4, 0.0, 0.3, 0.3};
  const TransportPlan plan = exact_emd(a, b, cost);
  expect_marginals(plan, a, b, 1e-12);
  expect_optimality_certificate(plan, a, b, cost);
}

TEST(OptimalTransport, SinkhornApproachesTheExactCostAsRegShrinks) {
  // Targets shifted by 3 in every coordinate, as between two domains: the exact cost is then
  // a good part of the largest cost, and at reg = 0.01 (on the cost divided by its maximum)
  // the entropic plan's cost is within 2 % of it (about 1 % here).
  const int n = 12, m = 16, d = 3;
  std::mt19937 rng(2);
  const auto x = normal_points(n, d, rng), y = normal_points(m, d, rng, 3.0);
  auto cost = squared_euclidean_cost(x.data(), n, y.data(), m, d);
  const double max_cost = largest(cost);
  for (double& c : cost) c /= max_cost;
  const auto a = uniform_masses(n), b = uniform_masses(m);
  const double exact = exact_emd(a, b, cost).cost;

  const double tol = 1e-9;
  double previous_gap = std::numeric_limits<double>::infinity();
  for (double reg : {1.0, 0.1, 0.01}) {
    const TransportPlan plan = sinkhorn_log(a, b, cost, reg, 100000, tol);
    EXPECT_TRUE(plan.converged) << "reg " << reg;
    // Rows to tol; both up to the entries below 1e-12 that the plan leaves out.
    const auto [row_error, column_error] = marginal_errors(plan, a, b);
    EXPECT_LE(row_error, tol + n * m * 1e-12) << "reg " << reg;
    EXPECT_LE(column_error, 1e-12 + n * m * 1e-12) << "reg " << reg;
    // 0 ≤ gap ≤ reg·(H(P_reg) − H(P*)) ≤ reg·log(min(n, m)), since any plan's entropy lies
    // between max(H(a), H(b)) and H(a) + H(b); and the gap shrinks with reg.
    const double gap = plan.cost - exact;
    EXPECT_GE(gap, -1e-9) << "reg " << reg;
    EXPECT_LE(gap, reg * std::log(double(std::min(n, m))) + 1e-9) << "reg " << reg;
    EXPECT_LT(gap, previous_gap) << "reg " << reg;
    previous_gap = gap;
  }
  EXPECT_LT(previous_gap, 0.02 * exact);
}

TEST(OptimalTransport, ModeratelyLargeProblemIsSolvedOptimally) {
  const int n = 300, d = 8;
  std::mt19937 rng(300);
  const auto x = normal_points(n, d, rng), y = normal_points(n, d, rng, 0.5);
  const auto cost = squared_euclidean_cost(x.data(), n, y.data(), n, d);
  const auto masses = uniform_masses(n);
  const TransportPlan plan = exact_emd_uniform(n, n, cost);
  EXPECT_TRUE(plan.converged);
  expect_marginals(plan, masses, masses, 1e-12);
  expect_optimality_certificate(plan, masses, masses, cost);

  double identity = 0;  // x_i → y_i
  for (int i = 0; i < n; ++i) identity += cost[std::size_t(i) * n + i] / n;
  EXPECT_LE(plan.cost, identity);
  // Sinkhorn's plan meets the marginals only to ~1e-7 (tol and the dropped entries).
  const double max_cost = largest(cost);
  const TransportPlan entropic = sinkhorn_log(masses, masses, cost, 0.05 * max_cost);
  EXPECT_TRUE(entropic.converged);
  EXPECT_LE(plan.cost, entropic.cost + 1e-6 * max_cost);
}

TEST(OptimalTransport, IdenticalPointSetsCostNothing) {
  std::mt19937 rng(9);
  const auto x = normal_points(10, 4, rng);
  const TransportPlan plan = exact_emd_uniform(10, 10, squared_euclidean_cost(x.data(), 10, x.data(), 10, 4));
  EXPECT_EQ(plan.cost, 0.0);
  ASSERT_EQ(plan.entries.size(), 10u);
  for (const PlanEntry& e : plan.entries) EXPECT_EQ(e.i, e.j);
  // All points equal: every plan is optimal; any must still meet the marginals.
  const std::vector<float> same(3 * 2, 1.5f), also_same(4 * 2, 1.5f);
  const TransportPlan flat = exact_emd_uniform(3, 4, squared_euclidean_cost(same.data(), 3, also_same.data(), 4, 2));
  EXPECT_EQ(flat.cost, 0.0);
  expect_marginals(flat, uniform_masses(3), uniform_masses(4), 1e-12);
}

TEST(OptimalTransport, OnePointSendsToOrReceivesFromAll) {
  std::mt19937 rng(10);
  const auto one = normal_points(1, 3, rng), many = normal_points(5, 3, rng);
  const auto b = random_masses(5, rng);
  const auto cost = squared_euclidean_cost(one.data(), 1, many.data(), 5, 3);
  const TransportPlan out = exact_emd({1.0}, b, cost);
  ASSERT_EQ(out.entries.size(), 5u);
  double expected_cost = 0;
  for (int j = 0; j < 5; ++j) {
    EXPECT_EQ(out.entries[j].i, 0);
    EXPECT_EQ(out.entries[j].j, j);
    EXPECT_NEAR(out.entries[j].mass, b[j], 1e-15);
    expected_cost += b[j] * cost[j];
  }
  EXPECT_NEAR(out.cost, expected_cost, 1e-12 * expected_cost);
  // Many to one: the cost matrix is the transpose, a 5 × 1 column.
  const TransportPlan in = exact_emd(b, {1.0}, cost);
  ASSERT_EQ(in.entries.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_NEAR(in.entries[i].mass, b[i], 1e-15);
  const TransportPlan single = exact_emd_uniform(1, 1, {2.5});
  ASSERT_EQ(single.entries.size(), 1u);
  EXPECT_EQ(single.entries[0].mass, 1.0);
  EXPECT_EQ(single.cost, 2.5);
}

TEST(OptimalTransport, InvalidProblemsThrowWithTheReason) {
  const std::vector<double> cost{1, 2, 3, 4};
  auto message = invalid_argument_message([] { exact_emd_uniform(0, 3, {}); });
  EXPECT_NE(message.find("source domain is empty"), std::string::npos) << message;
  message = invalid_argument_message([] { exact_emd({1.0}, {}, {}); });
  EXPECT_NE(message.find("target domain is empty"), std::string::npos) << message;
  message = invalid_argument_message([] { sinkhorn_log({}, {1.0}, {}, 0.1); });
  EXPECT_NE(message.find("source domain is empty"), std::string::npos) << message;
  message = invalid_argument_message([&] { exact_emd({0.5, 0.4}, {0.5, 0.5}, cost); });
  EXPECT_NE(message.find("sum to 0.9"), std::string::npos) << message;
  message = invalid_argument_message([&] { sinkhorn_log({0.5, 0.5}, {0.7, 0.7}, cost, 0.1); });
  EXPECT_NE(message.find("sum to 1.3"), std::string::npos) << message;
  message = invalid_argument_message([&] { exact_emd({1.5, -0.5}, {0.5, 0.5}, cost); });
  EXPECT_NE(message.find("a[1]"), std::string::npos) << message;
  message = invalid_argument_message([] { exact_emd({0.5, 0.5}, {0.5, 0.5}, {1, 2, 3}); });
  EXPECT_NE(message.find("3 entries"), std::string::npos) << message;
  message = invalid_argument_message([] { exact_emd({1.0}, {1.0}, {std::nan("")}); });
  EXPECT_NE(message.find("not finite"), std::string::npos) << message;
  message = invalid_argument_message([&] { sinkhorn_log({0.5, 0.5}, {0.5, 0.5}, cost, 0.0); });
  EXPECT_NE(message.find("reg"), std::string::npos) << message;
}

}  // namespace
}  // namespace gda::test
