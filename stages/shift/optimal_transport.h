#pragma once
// Discrete optimal transport between two weighted point sets: the exact plan (earth mover's
// distance) by a network simplex, and the entropic plan by log-domain Sinkhorn. GOAT's
// generator pairs source and target features through these plans (issue 5).
//
// Plain std::vector<double> in and out, no LibTorch: callers copy features out once, and
// this stays quick to compile. Invalid inputs throw std::invalid_argument with a message
// that names the problem; the pipeline turns them into user errors.
#include <cstdint>
#include <vector>

namespace gda {

/// One nonzero entry of a transport plan: `mass` moves from source point i to target point j.
struct PlanEntry {
  int i = 0, j = 0;
  double mass = 0;
};

struct TransportPlan {
  /// Nonzero entries only, sorted by (i, j): an exact plan has at most n + m − 1.
  std::vector<PlanEntry> entries;
  /// Σ mass · cost over `entries`.
  double cost = 0;
  /// Dual potentials. Exact EMD: u_i + v_j ≤ C_ij for every (i, j), with equality on every
  /// plan entry; Σ a_i u_i + Σ b_j v_j = cost. Sinkhorn: the entropic potentials f = reg·α,
  /// g = reg·β of P_ij = exp((f_i + g_j − C_ij) / reg) (−inf where a marginal is 0).
  std::vector<double> u, v;
  /// Network-simplex pivots, or Sinkhorn iterations (one row and one column update each).
  std::int64_t iterations = 0;
  /// False when the iteration limit stopped the solver first.
  bool converged = true;
};

/// Squared Euclidean cost matrix, row-major n × m: C_ij = ||x_i − y_j||² between the rows of
/// x (n × d) and y (m × d), summed in double from the differences (so identical points cost
/// exactly 0, which the ||x||² + ||y||² − 2x·y shortcut would not give).
std::vector<double> squared_euclidean_cost(const float* x, int n, const float* y, int m, int d);

/// Exact optimal transport: the plan P ≥ 0 with row sums a (size n) and column sums b (size m)
/// that minimises Σ P_ij C_ij, `cost` row-major n × m. a and b must each sum to 1 (to 1e-9);
/// throws std::invalid_argument on empty marginals, a cost of the wrong size, negative or
/// non-finite masses or costs, or sums off 1.
TransportPlan exact_emd(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& cost);

/// exact_emd with uniform marginals a_i = 1/n, b_j = 1/m.
TransportPlan exact_emd_uniform(int n, int m, const std::vector<double>& cost);

/// Entropic optimal transport by Sinkhorn's iterations in the log domain (stable for small
/// reg): minimises Σ P_ij C_ij − reg·H(P), H(P) = −Σ P_ij log P_ij. Column sums are exact
/// after every iteration; it stops once the L1 error of the row sums against a is below tol,
/// or after max_iter iterations (converged = false). Entries below 1e-12 are dropped from the
/// returned plan, so its row sums may miss a by up to that times n·m more. Same checks as
/// exact_emd, and reg must be positive.
TransportPlan sinkhorn_log(const std::vector<double>& a, const std::vector<double>& b, const std::vector<double>& cost,
                           double reg, int max_iter = 10000, double tol = 1e-9);

}  // namespace gda
