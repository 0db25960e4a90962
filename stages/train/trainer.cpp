#include "stages/train/trainer.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <cmath>

#include "core/error.h"
#include "stages/models/model.h"
#include "stages/optim/optimizer.h"

namespace gda {

namespace {

/// The losses of one epoch. On the CPU each is read as it comes (free there), so a NaN stops
/// training at its step; on a GPU reading one would make the host wait for the device every
/// step, so they stay on the device and are read, and checked, once at the end of the epoch.
/// Either way a non-finite loss throws NumericError naming its step.
class EpochLosses {
 public:
  EpochLosses(const std::string& stage, int epoch, std::int64_t first_step, bool read_each)
      : stage_(stage), epoch_(epoch), next_step_(first_step), read_each_(read_each) {}

  void add(const torch::Tensor& loss) {
    if (!read_each_) {
      pending_.push_back(loss.detach());
      return;
    }
    take(loss.item<double>());
  }

  /// Reads what is pending and returns the mean loss of the epoch.
  double mean() {
    check_pending();
    return count_ ? sum_ / double(count_) : 0.0;
  }

  /// Reads what is pending: a non-finite loss among it throws (called when a step threw,
  /// since a NaN in the weights can make a later step's own checks fail first).
  void check_pending() {
    if (pending_.empty()) return;
    const auto values = torch::stack(pending_).to(torch::kFloat64).to(torch::kCPU);
    pending_.clear();
    const double* v = values.data_ptr<double>();
    for (std::int64_t i = 0; i < values.numel(); ++i) take(v[i]);
  }

 private:
  void take(double loss) {
    ++next_step_;
    if (!std::isfinite(loss))
      throw NumericError(fmt::format("{}: loss is {} at step {} (epoch {}); try a smaller learning rate", stage_,
                                     loss, next_step_, epoch_ + 1),
                         stage_, next_step_);
    sum_ += loss;
    ++count_;
  }

  const std::string& stage_;
  int epoch_;
  std::int64_t next_step_;  ///< steps before this epoch's first pending loss
  bool read_each_;
  std::vector<torch::Tensor> pending_;
  double sum_ = 0;
  std::int64_t count_ = 0;
};

}  // namespace

TrainResult train_epochs(Model& model, Optimizer& optimizer, const TrainData& data, int epochs,
                         int batch_size, Rng& rng, const std::string& stage, int first_epoch) {
  TrainResult r;
  model.train();
  const std::int64_t n = data.x.size(0);
  const bool read_each = data.x.device().is_cpu();
  for (int epoch = 0; epoch < epochs; ++epoch) {
    auto order = permutation(n, rng);
    // One upload of the epoch's order; the batches are then gathered on the data's device.
    auto order_t = torch::from_blob(order.data(), {n}, torch::kInt64).to(data.x.device());
    EpochLosses losses(stage, first_epoch + epoch, r.steps, read_each);
    for (std::int64_t begin = 0; begin < n; begin += batch_size) {
      std::int64_t end = std::min(n, begin + batch_size);
      if (end - begin < 2) continue;
      auto idx = order_t.slice(0, begin, end);
      StepContext ctx(model, data.x.index_select(0, idx), data.y.index_select(0, idx),
                      data.weight.defined() ? data.weight.index_select(0, idx) : torch::Tensor());
      try {
        losses.add(optimizer.step(ctx));
      } catch (const std::exception& e) {
        losses.check_pending();  // a NaN earlier in the epoch is the cause to report
        // A scalar the update made too large for a float (lr = 3e38 over Adam's bias
        // correction, say) is a numerical failure, as an infinite loss would be. (LibTorch
        // 1.13 reports it as a std::runtime_error, 2.x as a c10::Error.)
        if (std::string(e.what()).find("without overflow") != std::string::npos)
          throw NumericError(fmt::format("{}: a value of the update overflowed 32-bit floats at step {} (epoch {}); "
                                         "try a smaller learning rate", stage, r.steps + 1, first_epoch + epoch + 1),
                             stage, r.steps + 1);
        throw;
      }
      ++r.steps;
      r.passes += ctx.passes();
    }
    r.mean_loss = losses.mean();
  }
  return r;
}

}  // namespace gda
