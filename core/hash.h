#pragma once
// FNV-1a, 64 bits: the one hash of configs, sweep jobs, seed purposes and samples. Not
// cryptographic; stable across compilers and runs, which is all these uses need.
#include <cstddef>
#include <cstdint>
#include <string>

namespace gda {

/// FNV-1a's offset basis.
constexpr std::uint64_t kFnvOffset = 14695981039346656037ull;
/// The start of gda's config, sweep-job and seed-purpose hashes: one digit short of the
/// offset basis, a slip of the first version that is kept because every stored config hash,
/// sweep folder and derived seed depends on it. Any nonzero start hashes as well.
constexpr std::uint64_t kGdaHashStart = 1469598103934665603ull;

/// Folds n bytes into h.
inline std::uint64_t fnv1a(const unsigned char* p, std::size_t n, std::uint64_t h) {
  for (std::size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

inline std::uint64_t fnv1a(const std::string& text, std::uint64_t h) {
  return fnv1a(reinterpret_cast<const unsigned char*>(text.data()), text.size(), h);
}

}  // namespace gda
