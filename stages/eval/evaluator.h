#pragma once
// Accuracy of a model on domains, in inference mode (dropout off, BatchNorm running
// statistics), in batches.
#include <torch/types.h>

#include <vector>

namespace gda {

class Model;
struct Domain;

/// Logits of `model` in eval mode on x, in batches of batch_size; the model's train/eval
/// mode is restored afterwards.
torch::Tensor predict_logits(Model& model, const torch::Tensor& x, std::int64_t batch_size);

/// The encoder's features of x (Model::encode) in eval mode, in batches; the model's mode
/// is restored afterwards.
torch::Tensor encode_all(Model& model, const torch::Tensor& x, std::int64_t batch_size);

/// Fraction of rows of x whose argmax logit equals y.
double accuracy(Model& model, const torch::Tensor& x, const torch::Tensor& y, std::int64_t batch_size);

}  // namespace gda
