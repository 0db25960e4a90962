// ot_bench: speed of the exact optimal-transport solver (network simplex) and of log-domain
// Sinkhorn on point clouds of n standard normal points in `dim` dimensions, both sides, to
// hold against POT: tools/bench/ot_pot.py runs ot.emd and ot.sinkhorn on the very same points.
//
//   ot_bench [--sizes 500,1000,2000] [--dim 128] [--seed 1] [--reg 0.01]
//            [--sinkhorn-iter 1000] [--no-sinkhorn] [--dump DIR]
//
// The cost is the squared Euclidean distance (as POT's ot.dist). Masses are uniform.
// Sinkhorn runs on the cost divided by its largest entry, with reg on that scale (as POT's
// examples do: reg = 0.01 is small against costs in [0, 1]), up to --sinkhorn-iter iterations
// with tol 1e-9 (POT's numItermax and stopThr defaults; the two stop tests differ, so compare
// the iteration counts too). Both costs are printed as Σ P_ij C_ij on the unscaled cost.
//
// --dump DIR writes DIR/x_N.f32 and DIR/y_N.f32 for each size N: N × dim raw float32 in the
// machine's byte order (little-endian on x86-64 and ARM64), row-major.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/stopwatch.h"
#include "stages/shift/optimal_transport.h"

namespace {

struct Options {
  std::vector<int> sizes{500, 1000, 2000};
  int dim = 128;
  unsigned seed = 1;
  double reg = 0.01;
  int sinkhorn_iterations = 1000;
  bool sinkhorn = true;
  std::string dump_dir;  // empty: write nothing
};

constexpr double kPi = 3.14159265358979323846;

/// Uniform in (0, 1) from 32 random bits, the same on every standard library.
double uniform01(std::mt19937& rng) { return (double(rng()) + 0.5) / 4294967296.0; }

/// One N(0, 1) draw by Box–Muller.
double standard_normal(std::mt19937& rng) {
  const double radius = std::sqrt(-2.0 * std::log(uniform01(rng)));
  return radius * std::cos(2.0 * kPi * uniform01(rng));
}

std::vector<float> normal_points(int n, int dim, std::mt19937& rng) {
  std::vector<float> points(static_cast<std::size_t>(n) * dim);
  for (float& p : points) p = static_cast<float>(standard_normal(rng));
  return points;
}

void write_floats(const std::filesystem::path& path, const std::vector<float>& values) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(values.data()), std::streamsize(values.size() * sizeof(float)));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<int> parse_sizes(const std::string& text) {
  std::vector<int> sizes;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    const int size = std::stoi(item);
    if (size <= 0) throw std::invalid_argument("--sizes: " + item + " is not a positive size");
    sizes.push_back(size);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return sizes;
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int k = 1; k < argc; ++k) {
    const std::string arg = argv[k];
    auto value = [&]() -> std::string {
      if (k + 1 >= argc) throw std::invalid_argument(arg + " needs a value");
      return argv[++k];
    };
    if (arg == "--sizes")
      options.sizes = parse_sizes(value());
    else if (arg == "--dim")
      options.dim = std::stoi(value());
    else if (arg == "--seed")
      options.seed = static_cast<unsigned>(std::stoul(value()));
    else if (arg == "--reg")
      options.reg = std::stod(value());
    else if (arg == "--sinkhorn-iter")
      options.sinkhorn_iterations = std::stoi(value());
    else if (arg == "--no-sinkhorn")
      options.sinkhorn = false;
    else if (arg == "--dump")
      options.dump_dir = value();
    else
      throw std::invalid_argument("unknown argument " + arg +
                                  " (ot_bench [--sizes 500,1000,2000] [--dim 128] [--seed 1] [--reg 0.01] "
                                  "[--sinkhorn-iter 1000] [--no-sinkhorn] [--dump DIR])");
  }
  if (options.dim <= 0) throw std::invalid_argument("--dim must be positive");
  return options;
}


void run_size(const Options& options, int n) {
  // The points of one size depend on the seed and the size alone.
  std::mt19937 rng(options.seed * 1000003u + unsigned(n));
  const auto x = normal_points(n, options.dim, rng), y = normal_points(n, options.dim, rng);
  if (!options.dump_dir.empty()) {
    std::filesystem::create_directories(options.dump_dir);
    write_floats(std::filesystem::path(options.dump_dir) / ("x_" + std::to_string(n) + ".f32"), x);
    write_floats(std::filesystem::path(options.dump_dir) / ("y_" + std::to_string(n) + ".f32"), y);
  }

  auto start = gda::Clock::now();
  const std::vector<double> cost = gda::squared_euclidean_cost(x.data(), n, y.data(), n, options.dim);
  std::printf("n=%d dim=%d solver=cost time_s=%.4f\n", n, options.dim, gda::seconds_since(start));

  start = gda::Clock::now();
  const gda::TransportPlan exact = gda::exact_emd_uniform(n, n, cost);
  std::printf("n=%d dim=%d solver=emd time_s=%.4f cost=%.12g iterations=%lld converged=%d\n", n, options.dim,
              gda::seconds_since(start), exact.cost, static_cast<long long>(exact.iterations), int(exact.converged));
  std::fflush(stdout);

  if (!options.sinkhorn) return;
  double largest = 0;
  for (double c : cost) largest = std::max(largest, c);
  std::vector<double> scaled(cost);
  for (double& c : scaled) c /= largest;
  const std::vector<double> masses(static_cast<std::size_t>(n), 1.0 / n);
  start = gda::Clock::now();
  const gda::TransportPlan entropic =
      gda::sinkhorn_log(masses, masses, scaled, options.reg, options.sinkhorn_iterations, 1e-9);
  std::printf("n=%d dim=%d solver=sinkhorn reg=%g time_s=%.4f cost=%.12g iterations=%lld converged=%d\n", n,
              options.dim, options.reg, gda::seconds_since(start), entropic.cost * largest,
              static_cast<long long>(entropic.iterations), int(entropic.converged));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options options = parse_options(argc, argv);
    for (int n : options.sizes) run_size(options, n);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ot_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
