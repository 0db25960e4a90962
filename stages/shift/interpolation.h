#pragma once
// Pixel-space interpolation between a source and a target domain: a domain at path
// position t holds (1 − t)·x_s + t·x_t over pairs (s, t) of a source-style and a
// target-style image. The generator itself (interpolation.cpp) takes both styles from the
// generator named by shift.endpoints (e.g. rotation: 0–5° against 55–60°).
#include <torch/types.h>

namespace gda {

/// (1 − t)·xs + t·xt[partner]: row i mixes xs[i] with xt[partner[i]].
torch::Tensor interpolate(const torch::Tensor& xs, const torch::Tensor& xt, const torch::Tensor& partner, double t);

/// A target row for every source row, uniformly at random: a random permutation of the
/// target rows, repeated when there are fewer target rows than source rows.
torch::Tensor random_partners(std::int64_t n_source, std::int64_t n_target, std::uint64_t seed);

/// A target row for every source row by optimal transport in pixel space: the exact plan
/// between the rows of xs and xt (squared Euclidean cost, uniform masses), and for each
/// source row the target row that receives most of its mass (the lowest index on ties).
torch::Tensor ot_partners(const torch::Tensor& xs, const torch::Tensor& xt);

}  // namespace gda
