#pragma once
// Who trains at each self-training stage, and with which optimizer state (adaptation.student).
// The published GDA codes differ here, and the difference moves their numbers:
// - copy: a copy of the teacher trains with a fresh optimizer each stage (GOAT's deepcopy;
//   gda's default);
// - keep_training ("continue"): the model that pseudo-labelled the stage trains on, with one
//   optimizer whose state carries across the stages (Kumar et al.'s Keras code, where the
//   student is the teacher and the compiled model keeps its Adam moments);
// - fresh_each_epoch: a copy of the teacher whose optimizer is made anew every epoch
//   (Schapiro and Zhao's code, which re-creates the optimizer inside the epoch loop).
#include "core/choice.h"

namespace gda {

enum class Student { copy, keep_training, fresh_each_epoch };
const Choice<Student>& student_choice();

}  // namespace gda
