#pragma once
// Shared test fixtures: a two-parameter model whose loss is a known quadratic, temporary
// directories, and a tiny config that runs the real pipeline in seconds.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>

#include "stages/models/model.h"
#include "stages/optim/optimizer.h"

namespace gda::test {

/// out = x ⊙ w with one parameter w ∈ R². With x = [2, 1] and the loss below,
/// L(w) = 0.5·((2·w1)² + w2²) = 2·w1² + 0.5·w2², so ∇L = [4·w1, w2].
class ElementwiseModel : public Model {
 public:
  explicit ElementwiseModel(std::vector<float> w0) {
    w = register_parameter("weight", torch::tensor(w0));
  }
  torch::Tensor encode(const torch::Tensor& x) override { return x * w; }
  torch::Tensor head(const torch::Tensor& z) override { return z; }
  torch::Tensor w;
};

/// Per-sample 0.5·||out − target||².
inline torch::Tensor half_squared_error(const torch::Tensor& out, const torch::Tensor& target) {
  return 0.5 * (out - target).pow(2).sum(1);
}

/// The batch a step sees, made for a model.
using BatchOf = std::function<StepContext(Model&)>;

/// A context on the quadratic: one sample x = [2, 1], target 0.
inline StepContext quadratic_context(Model& m) {
  return StepContext(m, torch::tensor({{2.0f, 1.0f}}), torch::zeros({1, 2}), {}, half_squared_error);
}

/// Two samples x = [2, 1] and [0, 2], targets 0: on ElementwiseModel per-sample gradients
/// [4·w1, w2] and [0, 4·w2]; the batch gradient is their mean [2·w1, 2.5·w2].
inline StepContext two_sample_context(Model& m) {
  return StepContext(m, torch::tensor({{2.0f, 1.0f}, {0.0f, 2.0f}}), torch::zeros({2, 2}), {},
                     half_squared_error);
}

/// One sample x, target 0 (on ElementwiseModel the gradient is [x1²·w1, x2²·w2]).
inline BatchOf one_sample(std::vector<float> x) {
  return [x](Model& m) {
    return StepContext(m, torch::tensor(x).unsqueeze(0), torch::zeros({1, 2}), {}, half_squared_error);
  };
}

/// An optimizer on ElementwiseModel from w = w0 (default [1, 1]), stepping on `batch`
/// (default: the quadratic) or on the batch given to step(); step() returns the step's passes
/// and keeps the loss it returned in last_loss.
struct Stepper {
  explicit Stepper(Params p, std::vector<float> w0 = {1, 1}, BatchOf batch = quadratic_context)
      : model(std::move(w0)), opt(make_optimizer(model.parameters(), p)), batch(std::move(batch)) {}
  PassCount step() { return step(batch); }
  PassCount step(const BatchOf& on) {
    auto ctx = on(model);
    last_loss = opt->step(ctx).item<double>();
    return ctx.passes();
  }
  ElementwiseModel model;
  std::unique_ptr<Optimizer> opt;
  BatchOf batch;
  double last_loss = 0;
};

inline void expect_w(const ElementwiseModel& m, double w1, double w2, double tol = 1e-6) {
  EXPECT_NEAR(m.w[0].item<double>(), w1, tol);
  EXPECT_NEAR(m.w[1].item<double>(), w2, tol);
}

/// For any stepper holding its ElementwiseModel as `model`.
template <class Stepper>
void expect_w(const Stepper& s, double w1, double w2, double tol = 1e-6) {
  expect_w(s.model, w1, w2, tol);
}

/// A step's four pass counts; `what` (e.g. "step 2") is appended to any failure message.
inline void expect_passes(const PassCount& p, std::int64_t forward, std::int64_t backward,
                          std::int64_t forward_samples, std::int64_t backward_samples,
                          const std::string& what = "") {
  EXPECT_EQ(p.forward, forward) << what;
  EXPECT_EQ(p.backward, backward) << what;
  EXPECT_EQ(p.forward_samples, forward_samples) << what;
  EXPECT_EQ(p.backward_samples, backward_samples) << what;
}

/// What `opt` saves, serialized and read back as a checkpoint would be.
inline torch::serialize::InputArchive saved_archive(const Optimizer& opt) {
  torch::serialize::OutputArchive out;
  opt.save(out);
  std::stringstream buf;
  out.save_to(buf);
  torch::serialize::InputArchive in;
  in.load_from(buf);
  return in;
}

/// Loads into `to` what `from` saves, through a serialized buffer.
inline void round_trip(const Optimizer& from, Optimizer& to) {
  auto in = saved_archive(from);
  to.load(in);
}

/// The [optimizer] section as the config loader would resolve it.
Params optimizer_params(const std::string& name, const std::string& base,
                        std::vector<std::pair<std::string, Value>> overrides = {});

/// The message of the UserError that f throws, or "no error" when it throws none.
std::string user_error_of(const std::function<void()>& f);

/// A fresh empty directory under the system temp dir, removed by the caller's scope end.
std::string temp_dir(const std::string& name);

/// A tiny config: synthetic 3-class 10×10 images, a small CNN, T intermediate domains.
std::string tiny_config(int T = 2, const std::string& extra = "");

}  // namespace gda::test
