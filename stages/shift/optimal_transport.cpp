// Exact optimal transport by a network simplex on a spanning-tree basis (the design of
// Ahuja, Magnanti & Orlin, "Network Flows", ch. 11, which LEMON and POT also follow), and
// entropic transport by log-domain Sinkhorn.
#include "stages/shift/optimal_transport.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

namespace gda {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
/// How far from 1 a marginal may sum: rounding of 1/n summed n times is far below it.
constexpr double kMassSumTolerance = 1e-9;
/// An arc enters only if its reduced cost is below −(this × the largest |cost|): rounding in
/// the potentials (~1e-16 per step of a tree path) must not let arcs of zero reduced cost
/// enter, which could make degenerate pivots cycle after all.
constexpr double kRelativePricingTolerance = 1e-12;
/// Safety net against a solver bug: Cunningham's rule terminates, typically after a few
/// pivots per node.
constexpr std::int64_t kMaxPivotsPerNode = 10000;
/// Sinkhorn plan entries below this mass (the total is 1) are left out.
constexpr double kSmallestSinkhornMass = 1e-12;
/// Parallel tasks of at least this many matrix entries, so that small problems stay serial.
constexpr int kParallelGrainEntries = 16384;

std::string number(double x) {
  char text[32];
  std::snprintf(text, sizeof text, "%.17g", x);
  return text;
}

void check_marginal(const std::string& who, const char* name, const std::vector<double>& w) {
  double sum = 0;
  for (std::size_t k = 0; k < w.size(); ++k) {
    if (!(w[k] >= 0) || !std::isfinite(w[k]))
      throw std::invalid_argument(who + ": " + name + "[" + std::to_string(k) + "] = " + number(w[k]) +
                                  " is not a nonnegative finite mass");
    sum += w[k];
  }
  if (!(std::abs(sum - 1) <= kMassSumTolerance))
    throw std::invalid_argument(who + ": the masses " + name + " sum to " + number(sum) +
                                ", not 1 (normalise them first)");
}

/// The checks shared by both solvers (see the header).
void check_problem(const std::string& who, const std::vector<double>& a, const std::vector<double>& b,
                   const std::vector<double>& cost) {
  if (a.empty()) throw std::invalid_argument(who + ": the source domain is empty (no source points)");
  if (b.empty()) throw std::invalid_argument(who + ": the target domain is empty (no target points)");
  const std::size_t expected = a.size() * b.size();
  if (cost.size() != expected)
    throw std::invalid_argument(who + ": the cost matrix has " + std::to_string(cost.size()) +
                                " entries, expected n·m = " + std::to_string(a.size()) + "·" +
                                std::to_string(b.size()) + " = " + std::to_string(expected));
  check_marginal(who, "a", a);
  check_marginal(who, "b", b);
  for (std::size_t k = 0; k < cost.size(); ++k)
    if (!std::isfinite(cost[k]))
      throw std::invalid_argument(who + ": cost(" + std::to_string(k / b.size()) + ", " +
                                  std::to_string(k % b.size()) + ") = " + number(cost[k]) + " is not finite");
}

/// The transportation problem as a minimum-cost flow, solved by the primal network simplex.
/// Nodes 0..n−1 are the sources (supply a_i), n..n+m−1 the targets (demand b_j) and n+m an
/// artificial root. Arc e = i·m + j runs from source i to target j with cost C_ij and no
/// capacity. A basis is a spanning tree: every node but the root keeps the arc to its parent
/// ("pred arc"), its direction and its flow. An arc to the root is artificial: it costs 0,
/// only the starting tree has them, and it always carries 0 (a cycle through the root
/// always blocks at 0 on one of its two artificial arcs), so once out it never re-enters.
///
/// Degeneracy: the tree is kept strongly feasible (every node can push positive flow up to
/// the root, i.e. every tree arc that carries 0 points towards the root) and the leaving arc
/// is chosen by Cunningham's rule, which keeps it so; together they rule out cycling.
class TransportSimplex {
 public:
  TransportSimplex(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& cost);
  TransportPlan solve();

 private:
  static constexpr int kNone = -1;
  static constexpr std::int64_t kArtificial = -1;  // the pred arc of a child of the root
  static constexpr std::int64_t kNoArc = -1;
  /// Which way a node's pred arc points: node → parent or parent → node.
  enum Direction : std::uint8_t { kUp, kDown };

  /// One allocation of the starting flow: mass from source i to target j.
  struct Cell {
    int i, j;
    double mass;
  };
  /// The arc whose flow falls to zero first around a pivot's cycle.
  struct Leaving {
    double delta;           ///< the flow that enters along the cycle
    int node;               ///< the node whose pred arc leaves
    bool on_source_side;    ///< on the path from the apex down to the entering arc's source
  };

  void build_initial_tree(const std::vector<double>& a, const std::vector<double>& b);
  std::vector<Cell> row_minimum_flow(const std::vector<double>& a, const std::vector<double>& b) const;
  void hang_forest(const std::vector<Cell>& cells);
  std::int64_t find_entering_arc();
  void pivot(std::int64_t entering);
  int apex_of(int x, int y) const;
  Leaving leaving_arc(int source, int target, int apex) const;
  void rehang(std::int64_t entering, int source, int target, const Leaving& leaving);
  void shift_potentials(int top, double shift);
  void recompute_potentials();
  /// Tree arcs have zero reduced cost C + π(arc source) − π(arc target): x's potential from its parent's.
  double potential_from_parent(int x) const {
    const double c = pred_arc_[x] == kArtificial ? 0.0 : cost_[pred_arc_[x]];
    return direction_[x] == kUp ? pi_[parent_[x]] - c : pi_[parent_[x]] + c;
  }
  void detach(int x);              // from its parent's child list
  void attach(int x, int parent);  // as parent's first child

  const int n_, m_, root_;
  const std::int64_t arcs_;
  const double* cost_;
  double tolerance_ = 0;
  // Pricing scans the arcs cyclically in blocks of block_size_ from next_arc_, taking the
  // best arc of the first block that has an improving one ("block search").
  std::int64_t block_size_ = 0, next_arc_ = 0;

  // Per node. Children are doubly linked lists so that re-hanging a subtree is O(1) per node.
  std::vector<int> parent_, depth_, first_child_, next_sibling_, prev_sibling_;
  std::vector<std::int64_t> pred_arc_;
  std::vector<Direction> direction_;
  std::vector<double> flow_;  // on the pred arc
  std::vector<double> pi_;    // node potentials (simplex multipliers)
  std::vector<char> in_tree_;  // per real arc
  std::vector<int> stack_;     // scratch for tree walks
};

TransportSimplex::TransportSimplex(const std::vector<double>& a, const std::vector<double>& b,
                                   const std::vector<double>& cost)
    : n_(static_cast<int>(a.size())),
      m_(static_cast<int>(b.size())),
      root_(n_ + m_),
      arcs_(std::int64_t(n_) * m_),
      cost_(cost.data()) {
  const int nodes = n_ + m_ + 1;
  parent_.assign(nodes, kNone);
  depth_.assign(nodes, 0);
  first_child_.assign(nodes, kNone);
  next_sibling_.assign(nodes, kNone);
  prev_sibling_.assign(nodes, kNone);
  pred_arc_.assign(nodes, kArtificial);
  direction_.assign(nodes, kUp);
  flow_.assign(nodes, 0.0);
  pi_.assign(nodes, 0.0);
  in_tree_.assign(static_cast<std::size_t>(arcs_), 0);
  double largest = 0;
  for (double c : cost) largest = std::max(largest, std::abs(c));
  tolerance_ = kRelativePricingTolerance * largest;
  block_size_ = std::max<std::int64_t>(10, static_cast<std::int64_t>(std::ceil(std::sqrt(double(arcs_)))));
  build_initial_tree(a, b);
}

void TransportSimplex::detach(int x) {
  if (prev_sibling_[x] != kNone)
    next_sibling_[prev_sibling_[x]] = next_sibling_[x];
  else
    first_child_[parent_[x]] = next_sibling_[x];
  if (next_sibling_[x] != kNone) prev_sibling_[next_sibling_[x]] = prev_sibling_[x];
}

void TransportSimplex::attach(int x, int parent) {
  parent_[x] = parent;
  prev_sibling_[x] = kNone;
  next_sibling_[x] = first_child_[parent];
  if (first_child_[parent] != kNone) prev_sibling_[first_child_[parent]] = x;
  first_child_[parent] = x;
}

void TransportSimplex::build_initial_tree(const std::vector<double>& a, const std::vector<double>& b) {
  hang_forest(row_minimum_flow(a, b));
  recompute_potentials();  // and the depths
}

std::vector<TransportSimplex::Cell> TransportSimplex::row_minimum_flow(const std::vector<double>& a,
                                                                       const std::vector<double>& b) const {
  // A starting flow by the row-minimum rule: each source in turn sends what it has to its
  // cheapest targets that still lack mass: a cost-aware start, where the classical all-
  // artificial tree ignores costs and must first pivot every artificial arc out. Every
  // allocation empties a row or a column, so the allocations form a forest; all carry
  // positive flow, so any orientation of it is strongly feasible.
  double sum_a = 0, sum_b = 0;
  for (double w : a) sum_a += w;
  for (double w : b) sum_b += w;
  std::vector<double> row_left(a), column_left(b);
  for (double& w : column_left) w *= sum_a / sum_b;  // balance the two to rounding
  std::vector<Cell> cells;
  cells.reserve(static_cast<std::size_t>(n_ + m_));
  for (int i = 0; i < n_; ++i) {
    const double* row = cost_ + std::int64_t(i) * m_;
    while (row_left[i] > 0) {
      int best = kNone;
      for (int j = 0; j < m_; ++j)
        if (column_left[j] > 0 && (best == kNone || row[j] < row[best])) best = j;
      if (best == kNone) break;  // the columns ran dry first, by rounding
      double& column = column_left[best];
      if (row_left[i] <= column) {
        cells.push_back({i, best, row_left[i]});
        column -= row_left[i];
        row_left[i] = 0;
      } else {
        cells.push_back({i, best, column});
        row_left[i] -= column;
        column = 0;
      }
    }
  }
  return cells;
}

void TransportSimplex::hang_forest(const std::vector<Cell>& cells) {
  // The cells incident to each node (compressed rows).
  const int nodes = n_ + m_;
  std::vector<int> first_cell(static_cast<std::size_t>(nodes) + 1, 0);
  for (const Cell& c : cells) {
    ++first_cell[c.i + 1];
    ++first_cell[n_ + c.j + 1];
  }
  for (int x = 0; x < nodes; ++x) first_cell[x + 1] += first_cell[x];
  std::vector<int> incident(static_cast<std::size_t>(first_cell[nodes]));
  std::vector<int> fill(first_cell.begin(), first_cell.end() - 1);
  for (int k = 0; k < static_cast<int>(cells.size()); ++k) {
    incident[fill[cells[k].i]++] = k;
    incident[fill[n_ + cells[k].j]++] = k;
  }

  // Each component of the forest hangs from the root by an artificial arc that carries 0 and
  // points up; nodes that got no cell (zero mass) are components of their own.
  std::vector<char> placed(static_cast<std::size_t>(nodes), 0);
  for (int top = 0; top < nodes; ++top) {
    if (placed[top]) continue;
    placed[top] = 1;
    attach(top, root_);  // pred arc artificial, direction up, flow 0: the constructor's values
    stack_.assign(1, top);
    while (!stack_.empty()) {
      const int x = stack_.back();
      stack_.pop_back();
      for (int k = first_cell[x]; k < first_cell[x + 1]; ++k) {
        const Cell& c = cells[incident[k]];
        const int other = x < n_ ? n_ + c.j : c.i;
        if (placed[other]) continue;  // x's parent: in a forest no other neighbour is placed yet
        placed[other] = 1;
        attach(other, x);
        pred_arc_[other] = std::int64_t(c.i) * m_ + c.j;
        direction_[other] = other < n_ ? kUp : kDown;  // arcs run source → target
        flow_[other] = c.mass;
        in_tree_[pred_arc_[other]] = 1;
        stack_.push_back(other);
      }
    }
  }
}

void TransportSimplex::recompute_potentials() {
  pi_[root_] = 0;
  depth_[root_] = 0;
  stack_.assign(1, root_);
  while (!stack_.empty()) {
    const int x = stack_.back();
    stack_.pop_back();
    for (int c = first_child_[x]; c != kNone; c = next_sibling_[c]) {
      pi_[c] = potential_from_parent(c);
      depth_[c] = depth_[x] + 1;
      stack_.push_back(c);
    }
  }
}

std::int64_t TransportSimplex::find_entering_arc() {
  double best = -tolerance_;
  std::int64_t best_arc = kNoArc;
  std::int64_t arc = next_arc_, remaining = arcs_, block_left = block_size_;
  const double* pi_target = pi_.data() + n_;
  while (remaining > 0) {
    // The run of arcs left in this row, this block and this sweep.
    const int i = static_cast<int>(arc / m_), j0 = static_cast<int>(arc % m_);
    const std::int64_t run = std::min({std::int64_t(m_ - j0), remaining, block_left});
    const double* c = cost_ + arc;
    const double* pj = pi_target + j0;
    const double pi_i = pi_[i];
    for (std::int64_t k = 0; k < run; ++k) {
      const double reduced = c[k] + pi_i - pj[k];
      if (reduced < best && !in_tree_[arc + k]) {
        best = reduced;
        best_arc = arc + k;
      }
    }
    arc += run;
    if (arc == arcs_) arc = 0;
    remaining -= run;
    block_left -= run;
    if (block_left == 0) {
      if (best_arc != kNoArc) break;
      block_left = block_size_;
    }
  }
  next_arc_ = arc;
  return best_arc;
}

void TransportSimplex::pivot(std::int64_t entering) {
  const int source = static_cast<int>(entering / m_), target = n_ + static_cast<int>(entering % m_);
  // The cycle: the entering arc source → target, then the tree path from target up to the
  // apex (the nearest common ancestor) and down to source. Flow grows along it.
  const int apex = apex_of(source, target);
  const Leaving leaving = leaving_arc(source, target, apex);
  if (leaving.delta > 0) {
    for (int u = source; u != apex; u = parent_[u]) flow_[u] += direction_[u] == kUp ? -leaving.delta : leaving.delta;
    for (int u = target; u != apex; u = parent_[u]) flow_[u] += direction_[u] == kDown ? -leaving.delta : leaving.delta;
  }
  const double reduced = cost_[entering] + pi_[source] - pi_[target];
  rehang(entering, source, target, leaving);
  // The re-hung subtree keeps its own arcs, so its potentials all move by one shift: the one
  // that zeroes the entering arc's reduced cost.
  shift_potentials(leaving.on_source_side ? source : target, leaving.on_source_side ? -reduced : reduced);
}

int TransportSimplex::apex_of(int x, int y) const {
  while (depth_[x] > depth_[y]) x = parent_[x];
  while (depth_[y] > depth_[x]) y = parent_[y];
  while (x != y) {
    x = parent_[x];
    y = parent_[y];
  }
  return x;
}

TransportSimplex::Leaving TransportSimplex::leaving_arc(int source, int target, int apex) const {
  // Cunningham's rule: of the arcs whose flow falls by the least, the last one met when
  // walking the cycle apex → source → target → apex. Down to source the flow of up-pointing
  // arcs falls (walked here from source up: strict < keeps the one nearest source); up from
  // target that of down-pointing arcs (<= keeps the one nearest the apex).
  Leaving l{kInfinity, kNone, false};
  for (int u = source; u != apex; u = parent_[u])
    if (direction_[u] == kUp && flow_[u] < l.delta) l = {flow_[u], u, true};
  for (int u = target; u != apex; u = parent_[u])
    if (direction_[u] == kDown && flow_[u] <= l.delta) l = {flow_[u], u, false};
  // Every cycle of a bipartite graph walks some arc backwards, so this cannot happen.
  if (l.node == kNone) throw std::logic_error("exact_emd: a pivot cycle with no blocking arc");
  return l;
}

void TransportSimplex::rehang(std::int64_t entering, int source, int target, const Leaving& leaving) {
  // The subtree below the leaving arc holds u_in, the entering arc's end on its side. It
  // re-hangs from the other end, v_in: the path u_in … leaving reverses, each node taking the
  // arc (and flow) that joined it to its old child on that path.
  const int u_in = leaving.on_source_side ? source : target;
  const int v_in = leaving.on_source_side ? target : source;
  if (pred_arc_[leaving.node] != kArtificial) in_tree_[pred_arc_[leaving.node]] = 0;
  in_tree_[entering] = 1;
  int node = u_in, new_parent = v_in;
  std::int64_t arc = entering;
  Direction direction = leaving.on_source_side ? kUp : kDown;  // source → target, seen from u_in
  double flow = leaving.delta;
  for (;;) {
    const int old_parent = parent_[node];
    const std::int64_t old_arc = pred_arc_[node];
    const Direction old_direction = direction_[node];
    const double old_flow = flow_[node];
    detach(node);
    attach(node, new_parent);
    pred_arc_[node] = arc;
    direction_[node] = direction;
    flow_[node] = flow;
    if (node == leaving.node) break;
    new_parent = node;
    arc = old_arc;
    direction = old_direction == kUp ? kDown : kUp;
    flow = old_flow;
    node = old_parent;
  }
}

void TransportSimplex::shift_potentials(int top, double shift) {
  // top's subtree: potentials by `shift`, depths from the new parents.
  stack_.assign(1, top);
  while (!stack_.empty()) {
    const int z = stack_.back();
    stack_.pop_back();
    pi_[z] += shift;
    depth_[z] = depth_[parent_[z]] + 1;
    for (int c = first_child_[z]; c != kNone; c = next_sibling_[c]) stack_.push_back(c);
  }
}

TransportPlan TransportSimplex::solve() {
  TransportPlan plan;
  plan.converged = false;
  const std::int64_t max_pivots = kMaxPivotsPerNode * (n_ + m_);
  std::int64_t pivots = 0;
  while (pivots < max_pivots) {
    std::int64_t entering = find_entering_arc();
    if (entering == kNoArc) {
      // The shifts of pivots add rounding to the potentials: confirm with exact ones.
      recompute_potentials();
      entering = find_entering_arc();
      if (entering == kNoArc) {
        plan.converged = true;
        break;
      }
    }
    pivot(entering);
    ++pivots;
  }
  if (!plan.converged) recompute_potentials();

  for (int x = 0; x < n_ + m_; ++x) {
    const std::int64_t arc = pred_arc_[x];
    if (arc != kArtificial && flow_[x] > 0)
      plan.entries.push_back({static_cast<int>(arc / m_), static_cast<int>(arc % m_), flow_[x]});
  }
  std::sort(plan.entries.begin(), plan.entries.end(),
            [](const PlanEntry& p, const PlanEntry& q) { return p.i != q.i ? p.i < q.i : p.j < q.j; });
  for (const PlanEntry& e : plan.entries) plan.cost += e.mass * cost_[std::int64_t(e.i) * m_ + e.j];
  // Reduced costs C_ij + π_i − π_(n+j) ≥ 0 are the dual constraints u_i + v_j ≤ C_ij.
  plan.u.resize(static_cast<std::size_t>(n_));
  plan.v.resize(static_cast<std::size_t>(m_));
  for (int i = 0; i < n_; ++i) plan.u[i] = -pi_[i];
  for (int j = 0; j < m_; ++j) plan.v[j] = pi_[n_ + j];
  plan.iterations = pivots;
  return plan;
}

/// out_r = log Σ_c exp(K_rc + shift_c) for each row r of the row-major rows × cols matrix K,
/// shifted by the row's largest term. Rows run in parallel, each summed by one thread in
/// column order, so results do not depend on the thread count.
void log_sum_exp_rows(const std::vector<double>& kernel, int rows, int cols, const std::vector<double>& shift,
                      std::vector<double>& out) {
  const int grain = std::max(1, kParallelGrainEntries / cols);
  tbb::parallel_for(tbb::blocked_range<int>(0, rows, grain), [&](const tbb::blocked_range<int>& range) {
    for (int r = range.begin(); r != range.end(); ++r) {
      const double* k = kernel.data() + std::int64_t(r) * cols;
      double largest = -kInfinity;
      for (int c = 0; c < cols; ++c) largest = std::max(largest, k[c] + shift[c]);
      if (largest == -kInfinity) {  // no mass reaches this row at all
        out[r] = largest;
        continue;
      }
      double sum = 0;
      for (int c = 0; c < cols; ++c) sum += std::exp(k[c] + shift[c] - largest);
      out[r] = largest + std::log(sum);
    }
  });
}

}  // namespace

std::vector<double> squared_euclidean_cost(const float* x, int n, const float* y, int m, int d) {
  if (n < 0 || m < 0 || d < 0)
    throw std::invalid_argument("squared_euclidean_cost: negative size (n = " + std::to_string(n) +
                                ", m = " + std::to_string(m) + ", d = " + std::to_string(d) + ")");
  std::vector<double> cost(static_cast<std::size_t>(n) * static_cast<std::size_t>(m));
  if (cost.empty()) return cost;
  const std::int64_t work_per_row = std::int64_t(m) * std::max(d, 1);
  const int grain = static_cast<int>(std::max<std::int64_t>(1, kParallelGrainEntries / work_per_row));
  tbb::parallel_for(tbb::blocked_range<int>(0, n, grain), [&](const tbb::blocked_range<int>& range) {
    for (int i = range.begin(); i != range.end(); ++i) {
      const float* xi = x + std::int64_t(i) * d;
      double* row = cost.data() + std::int64_t(i) * m;
      for (int j = 0; j < m; ++j) {
        const float* yj = y + std::int64_t(j) * d;
        double sum = 0;
        for (int k = 0; k < d; ++k) {
          const double difference = double(xi[k]) - double(yj[k]);
          sum += difference * difference;
        }
        row[j] = sum;
      }
    }
  });
  return cost;
}

TransportPlan exact_emd(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& cost) {
  check_problem("exact_emd", a, b, cost);
  return TransportSimplex(a, b, cost).solve();
}

TransportPlan exact_emd_uniform(int n, int m, const std::vector<double>& cost) {
  if (n <= 0) throw std::invalid_argument("exact_emd: the source domain is empty (n = " + std::to_string(n) + ")");
  if (m <= 0) throw std::invalid_argument("exact_emd: the target domain is empty (m = " + std::to_string(m) + ")");
  return exact_emd(std::vector<double>(static_cast<std::size_t>(n), 1.0 / n),
                   std::vector<double>(static_cast<std::size_t>(m), 1.0 / m), cost);
}

namespace {

/// K = −C/reg once, and its transpose, so that column updates also run along rows.
void log_kernels(const std::vector<double>& cost, int n, int m, double reg, std::vector<double>& kernel,
                 std::vector<double>& kernel_t) {
  kernel.resize(cost.size());
  kernel_t.resize(cost.size());
  tbb::parallel_for(tbb::blocked_range<int>(0, n), [&](const tbb::blocked_range<int>& range) {
    for (int i = range.begin(); i != range.end(); ++i)
      for (int j = 0; j < m; ++j) {
        const double k = -cost[std::int64_t(i) * m + j] / reg;
        kernel[std::int64_t(i) * m + j] = k;
        kernel_t[std::int64_t(j) * n + i] = k;
      }
  });
}

/// The plan's entries P_ij = exp(K_ij + α_i + β_j) above the smallest kept mass, and its cost.
void add_sinkhorn_entries(const std::vector<double>& kernel, const std::vector<double>& cost,
                          const std::vector<double>& alpha, const std::vector<double>& beta, TransportPlan& plan) {
  const int n = static_cast<int>(alpha.size()), m = static_cast<int>(beta.size());
  for (int i = 0; i < n; ++i) {
    const double* k = kernel.data() + std::int64_t(i) * m;
    for (int j = 0; j < m; ++j) {
      const double mass = std::exp(k[j] + alpha[i] + beta[j]);
      if (mass < kSmallestSinkhornMass) continue;
      plan.entries.push_back({i, j, mass});
      plan.cost += mass * cost[std::int64_t(i) * m + j];
    }
  }
}

}  // namespace

TransportPlan sinkhorn_log(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& cost,
                           double reg, int max_iter, double tol) {
  check_problem("sinkhorn_log", a, b, cost);
  if (!(reg > 0) || !std::isfinite(reg))
    throw std::invalid_argument("sinkhorn_log: reg = " + number(reg) + " must be positive and finite");
  if (max_iter < 1)
    throw std::invalid_argument("sinkhorn_log: max_iter = " + std::to_string(max_iter) + " must be at least 1");
  const int n = static_cast<int>(a.size()), m = static_cast<int>(b.size());

  std::vector<double> kernel, kernel_t;
  log_kernels(cost, n, m, reg, kernel, kernel_t);

  // The plan is P_ij = exp(K_ij + α_i + β_j); each half-iteration fits one marginal exactly.
  std::vector<double> log_a(a.size()), log_b(b.size());
  for (int i = 0; i < n; ++i) log_a[i] = std::log(a[i]);  // −inf for an empty point: it gets nothing
  for (int j = 0; j < m; ++j) log_b[j] = std::log(b[j]);
  std::vector<double> alpha(a.size(), 0.0), beta(b.size(), 0.0), row_lse(a.size()), column_lse(b.size());
  TransportPlan plan;
  plan.converged = false;
  std::int64_t iterations = 0;
  for (;;) {
    log_sum_exp_rows(kernel, n, m, beta, row_lse);
    if (iterations > 0) {
      // The current plan's row sums are exp(α_i + row_lse_i); its column sums are exact.
      double error = 0;
      for (int i = 0; i < n; ++i) error += std::abs(std::exp(alpha[i] + row_lse[i]) - a[i]);
      if (error < tol) {
        plan.converged = true;
        break;
      }
    }
    if (iterations == max_iter) break;
    for (int i = 0; i < n; ++i) alpha[i] = log_a[i] - row_lse[i];
    log_sum_exp_rows(kernel_t, m, n, alpha, column_lse);
    for (int j = 0; j < m; ++j) beta[j] = log_b[j] - column_lse[j];
    ++iterations;
  }

  add_sinkhorn_entries(kernel, cost, alpha, beta, plan);
  plan.u.resize(a.size());
  plan.v.resize(b.size());
  for (int i = 0; i < n; ++i) plan.u[i] = reg * alpha[i];
  for (int j = 0; j < m; ++j) plan.v[j] = reg * beta[j];
  plan.iterations = iterations;
  return plan;
}

}  // namespace gda
