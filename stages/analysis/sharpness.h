#pragma once
// How sharp the loss is around trained weights: the measurements of the sharpness
// literature, on any LossSurface (a model's loss on fixed inputs, or a test's quadratic).
// Every random draw comes from the generator passed in, never from LibTorch's global one,
// so measuring changes nothing else in a run.
#include <ATen/core/Generator.h>

#include "stages/analysis/loss_surface.h"

namespace gda {

struct WorstCaseSettings {
  double rho = 0.05;  ///< radius of the L2 ball of perturbations
  int steps = 10;     ///< loss evaluations of the ascent (each with its gradient)
  /// ASAM's ball: ||e / (|w| + eta)|| ≤ rho, element-wise, so each weight moves in
  /// proportion to its size.
  bool adaptive = false;
  double eta = 0.01;
};

/// Worst-case (SAM's) sharpness: max over ||e|| ≤ rho of L(w + e) − L(w), found by
/// projected gradient ascent. The first point is SAM's, rho·∇L/||∇L|| (a random direction
/// where the gradient is 0); each step adds rho·(normalised gradient at w + e) and projects
/// back onto the ball. The largest increase seen is returned, so it is ≥ 0 and a lower bound
/// of the true maximum. With `adaptive` the ascent runs in ASAM's scaled coordinates.
double worst_case_sharpness(const LossSurface& loss, const WorstCaseSettings& s, at::Generator& gen);

/// Average-case sharpness: the mean of L(w + e) − L(w) over `draws` Gaussian perturbations
/// e ~ N(0, sigma²·I). For small sigma near a minimum it is sigma²·tr(H)/2.
double average_case_sharpness(const LossSurface& loss, double sigma, int draws, at::Generator& gen);

struct TopEigenvalue {
  double value = 0;    ///< the Rayleigh quotient v·Hv of the last iterate
  int iterations = 0;  ///< Hessian-vector products spent
  bool converged = false;
};

/// The Hessian eigenvalue of largest magnitude (λ_max near a minimum, where H is positive
/// semi-definite), by power iteration on Hessian-vector products from a random start; stops
/// when the Rayleigh quotient changes by at most tolerance·|λ| or after max_iterations.
TopEigenvalue top_hessian_eigenvalue(const LossSurface& loss, int max_iterations, double tolerance,
                                     at::Generator& gen);

/// Hutchinson's estimate of tr(H): the mean of z·Hz over `probes` Rademacher vectors z
/// (unbiased; its variance is 2·Σ_{i≠j} H_ij² per probe).
double hessian_trace(const LossSurface& loss, int probes, at::Generator& gen);

/// A CPU generator seeded for one measurement (its draws are moved to the parameters' device).
at::Generator analysis_generator(std::uint64_t seed);

}  // namespace gda
