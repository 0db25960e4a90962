#pragma once
// A trained source model kept on disk so that runs sharing their data, model and source
// training (a sweep's optimizers, shift schedules) train it once: the weights and buffers
// (model.pt) and the training facts of stage 0 (stage0.json), both written atomically.
#include <string>

#include "pipeline/run_record.h"
#include "stages/models/model.h"

namespace gda {

/// True when `dir` holds a complete source model (both files).
bool has_source_model(const std::string& dir);

/// Writes the model (its tensors on the CPU, whatever its device) and its stage-0 record
/// into `dir` (created if needed).
void save_source_model(const std::string& dir, const Model& model, const StageRecord& stage0);

/// Why the model in `dir` cannot be loaded ("" when it reads: an archive of tensors and a
/// stage-0 record), checked without a model to load it into.
std::string unreadable_source_model(const std::string& dir);

/// Loads the weights and buffers onto `model`'s device (same architecture) and returns stage 0's
/// record (training fields only). Throws UserError if the files do not fit the model.
StageRecord load_source_model(const std::string& dir, Model& model);

}  // namespace gda
