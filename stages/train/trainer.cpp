#include "stages/train/trainer.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "stages/models/model.h"
#include "stages/optim/optimizer.h"

namespace gda {

TrainResult train_epochs(Model& model, Optimizer& optimizer, const TrainData& data, int epochs,
                         int batch_size, Rng& rng, const std::string& stage) {
  TrainResult r;
  model.train();
  const std::int64_t n = data.x.size(0);
  for (int epoch = 0; epoch < epochs; ++epoch) {
    auto order = permutation(n, rng);
    auto order_t = torch::from_blob(order.data(), {n}, torch::kInt64);
    double loss_sum = 0;
    int batches = 0;
    for (std::int64_t begin = 0; begin < n; begin += batch_size) {
      std::int64_t end = std::min(n, begin + batch_size);
      if (end - begin < 2) continue;
      auto idx = order_t.slice(0, begin, end);
      StepContext ctx(model, data.x.index_select(0, idx), data.y.index_select(0, idx),
                      data.weight.defined() ? data.weight.index_select(0, idx) : torch::Tensor());
      double loss = optimizer.step(ctx).item<double>();
      ++r.steps;
      r.passes += ctx.passes();
      if (!std::isfinite(loss))
        throw NumericError(fmt::format("{}: loss is {} at step {} (epoch {}); try a smaller "
                                       "learning rate", stage, loss, r.steps, epoch + 1),
                           stage, r.steps);
      loss_sum += loss;
      ++batches;
    }
    r.mean_loss = batches ? loss_sum / batches : 0.0;
  }
  return r;
}

}  // namespace gda
