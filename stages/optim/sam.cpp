// SAM: Sharpness-Aware Minimization (Foret, Kleiner, Mobahi, Neyshabur, ICLR 2021).
//   g = ∇L(w);  e = rho · g / ||g||;  g_sam = ∇L(w + e);  w ← base_step(w, g_sam)
// ||g|| is the norm over all parameters together, as in the paper's Algorithm 1 and the
// widely used davda54/sam code (which adds 1e-12 to the norm). 2 fwd / 2 bwd per step.
#include "stages/optim/neighbourhood.h"
#include "stages/optim/optimizer.h"

namespace gda {
namespace {

struct SamOptions {
  double rho;
};

SamOptions sam_options(const Params& p) {
  SamOptions o;
  o.rho = p.real("rho");
  return o;
}

class Sam : public OptimizerWith<SamOptions> {
 public:
  using OptimizerWith::OptimizerWith;

  torch::Tensor step(StepContext& ctx) override {
    auto loss = ctx.loss_and_grad();
    {
      Perturbed at(params_, sam_ascent(gradients(params_), o_.rho));  // w + e
      ctx.loss_and_grad();  // the gradient at w + e, left in .grad
    }
    base_step();
    return loss;
  }
};

const bool registered = optimizer_registry().add(
    {"sam", "SAM, sharpness-aware minimization (Foret et al., ICLR 2021) over a base optimizer",
     {positive("rho", 0.05, "radius of the weight perturbation")},
     variant<Sam>(sam_options),
     "2 fwd / 2 bwd"});

}  // namespace
}  // namespace gda
