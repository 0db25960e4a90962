#pragma once
// Epochs of minibatch training with any registered optimizer.
#include <torch/types.h>

#include <string>

#include "core/random.h"
#include "stages/optim/step_context.h"

namespace gda {

class Model;
class Optimizer;

struct TrainData {
  torch::Tensor x, y;
  torch::Tensor weight;  ///< optional per-sample loss weights
};

struct TrainResult {
  double mean_loss = 0;  ///< mean over the steps of the last epoch
  std::int64_t steps = 0;
  PassCount passes;
};

/// Trains `epochs` epochs, reshuffled every epoch by rng, in batches of batch_size (the
/// last, smaller batch included; a last batch of one sample is dropped because BatchNorm
/// cannot train on it). A non-finite loss throws NumericError naming `stage` and the step.
/// first_epoch numbers the epochs in messages (a caller that trains one epoch at a time).
TrainResult train_epochs(Model& model, Optimizer& optimizer, const TrainData& data, int epochs,
                         int batch_size, Rng& rng, const std::string& stage, int first_epoch = 0);

}  // namespace gda
