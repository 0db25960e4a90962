#pragma once
// The two kinds of stage of gradual self-training (Kumar, Ma and Liang, ICML 2020):
// supervised training on the labelled source, then per domain: the teacher labels it,
// the least confident fraction is dropped, a student copied from the teacher trains on
// the kept pseudo-labels and becomes the next teacher.
#include "datasets/dataset.h"
#include "core/random.h"
#include "stages/train/stage_record.h"
#include "stages/models/model.h"
#include "stages/shift/generator.h"
#include "stages/train/pseudo_label.h"
#include "stages/train/student.h"

#include <functional>
#include <memory>

namespace gda {

class Optimizer;

struct StageSettings {
  int epochs = 5;
  int batch_size = 128;
  double drop_fraction = 0.1;
  std::int64_t inference_batch = 1000;
  Params optimizer;  ///< the [optimizer] section (or the base alone, for the source)
  Student student = Student::copy;  ///< who trains at each stage (stages/train/student.h)
  Confidence confidence = Confidence::logit_range;  ///< what ranks pseudo-labels for the cut
};

/// The optimizer Student::keep_training carries from stage to stage: made at the first stage
/// that trains, over the one model that trains on (null until then).
using CarriedOptimizer = std::unique_ptr<Optimizer>;

/// Trains `model` in place on the source's true labels. Fills the training fields of the
/// returned record (stage 0).
StageRecord train_on_source(Model& model, const Domain& source, const StageSettings& s, Rng& rng);

/// One self-training stage; returns the student and fills the training fields of `record`.
/// The student is a copy of the teacher (the teacher is not changed), or under
/// Student::keep_training the teacher itself, trained in place with `carried`. next_x: the
/// inputs of the next domain on the path (undefined at the last), offered to the optimizer
/// (StageInputs). source: the model trained on the source (also offered to the optimizer).
ModelPtr self_train(const ModelPtr& teacher, const Model& source, const Domain& domain,
                    const torch::Tensor& next_x, const StageSettings& s, Rng& rng, StageRecord& record,
                    CarriedOptimizer& carried);

/// Self-trains through a generator's segment (ShiftGenerator::segment), one stage per
/// domain, starting from `teacher`. Feature-space segments train a head_view and keep
/// teacher's encoder. `after` gets the whole model and the record after each stage (stage
/// numbers are the caller's). Returns the last model.
ModelPtr self_train_segment(const PathSegment& segment, const ModelPtr& teacher, const ModelPtr& source,
                            const StageSettings& s, Rng& rng,
                            const std::function<void(const ModelPtr&, StageRecord)>& after);

}  // namespace gda
