#pragma once
// A model's head as a model of its own, for training in feature space (GOAT's transport
// paths): features in, logits out.
#include "stages/models/model.h"

namespace gda {

/// A model that shares `full`'s head modules (Model::head_modules): training it trains
/// full's head. Its parameters are the head's only, so an optimizer made on it leaves the
/// encoder alone; its encode() is the identity. Throws UserError when `full` names no head.
ModelPtr head_view(const ModelPtr& full);

/// A copy of `full` whose head is `head`'s (a head_view of a model of the same
/// architecture): the frozen encoder with the head trained in feature space.
ModelPtr with_head(const Model& full, const Model& head);

}  // namespace gda
