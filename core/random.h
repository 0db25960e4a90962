#pragma once
// Seeded randomness that does not depend on the standard library's distributions, so a
// run's data order and angles are the same with any compiler or thread count.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace gda {

using Rng = std::mt19937_64;

/// A seed for one named purpose of a run ("data/shuffle", "rotation/source", ...), so
/// adding a new random draw somewhere never shifts the draws of another.
std::uint64_t derive_seed(std::uint64_t seed, const std::string& purpose);

/// Uniform double in [a, b).
double uniform(Rng& rng, double a, double b);

/// A uniformly random permutation of 0..n-1 (Fisher–Yates).
std::vector<std::int64_t> permutation(std::int64_t n, Rng& rng);

}  // namespace gda
