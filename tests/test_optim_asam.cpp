// ASAM on small problems, base sgd, lr 0.1. The expected numbers are worked out in the
// comments (and checked with plain-float Python), not produced by the code under test.
#include "tests/helpers.h"

namespace gda::test {
namespace {

/// out = x ⊙ weight + bias with x = [2, 1] and target 0, so with o = [2·w1 + b1, w2 + b2]
/// the loss is 0.5·(o1² + o2²) and ∇_w = [2·o1, o2], ∇_b = [o1, o2]. Its two tensors are named
/// as ASAM's rule needs: "weight" is scaled by |w| + eta, "bias" is not.
class AffineModel : public Model {
 public:
  AffineModel(std::vector<float> w0, std::vector<float> b0) {
    w = register_parameter("weight", torch::tensor(w0));
    b = register_parameter("bias", torch::tensor(b0));
  }
  torch::Tensor encode(const torch::Tensor& x) override { return x * w + b; }
  torch::Tensor head(const torch::Tensor& z) override { return z; }
  torch::Tensor w, b;
};

TEST(Asam, OneStepScalesTheWeightsButNotTheBias) {
  // w = [0.5, 2], b = [0.5, −1]: o = [1.5, 1]; g_w = [3, 1], g_b = [1.5, 1].
  // rho 0.5, eta 0.01: T = [|0.5| + 0.01, |2| + 0.01, 1, 1] = [0.51, 2.01, 1, 1];
  // T·g = [1.53, 2.01, 1.5, 1], ||T·g||² = 2.3409 + 4.0401 + 2.25 + 1 = 9.631, ||T·g|| = 3.1033852;
  // e = 0.5·T²·g/||T·g|| = 0.5·[0.7803, 4.0401, 1.5, 1]/3.1033852
  //   = [0.1257176, 0.6509182, 0.2416716, 0.1611144]
  // (plain SAM would give e ∝ g = [3, 1, 1.5, 1]: the second weight moves most here).
  // At w + e = [0.6257176, 2.6509182], b + e = [0.7416716, −0.8388856]:
  //   o = [1.9931067, 1.8120326]; g_w = [3.9862134, 1.8120326], g_b = [1.9931067, 1.8120326].
  // w = [0.5 − 0.3986213, 2 − 0.1812033] = [0.1013787, 1.8187967];
  // b = [0.5 − 0.1993107, −1 − 0.1812033] = [0.3006893, −1.1812033].
  AffineModel m({0.5f, 2.0f}, {0.5f, -1.0f});
  auto opt = make_optimizer(m.parameters(),
                            optimizer_params("asam", "sgd", {{"lr", 0.1}, {"rho", 0.5}, {"eta", 0.01}}));
  StepContext ctx(m, torch::tensor({{2.0f, 1.0f}}), torch::zeros({1, 2}), {}, half_squared_error);
  const double loss = opt->step(ctx).item<double>();
  EXPECT_NEAR(loss, 1.625, 1e-6);  // 0.5·(1.5² + 1²), at the starting weights
  EXPECT_NEAR(m.w[0].item<double>(), 0.1013787, 1e-6);
  EXPECT_NEAR(m.w[1].item<double>(), 1.8187967, 1e-6);
  EXPECT_NEAR(m.b[0].item<double>(), 0.3006893, 1e-6);
  EXPECT_NEAR(m.b[1].item<double>(), -1.1812033, 1e-6);
}

TEST(PassCounts, AsamUsesTwoForwardAndTwoBackward) {
  ElementwiseModel m({1, 1});
  auto opt = make_optimizer(m.parameters(), optimizer_params("asam", "adam"));
  auto ctx = quadratic_context(m);
  opt->step(ctx);
  expect_passes(ctx.passes(), 2, 2, 2, 2);
}

}  // namespace
}  // namespace gda::test
