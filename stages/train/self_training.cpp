#include "stages/train/self_training.h"

#include <torch/torch.h>

#include "core/stopwatch.h"
#include "stages/eval/evaluator.h"
#include "stages/models/head_view.h"
#include "stages/optim/optimizer.h"
#include "stages/train/pseudo_label.h"
#include "stages/train/trainer.h"

namespace gda {
namespace {

void fill(StageRecord& r, const TrainResult& t) {
  r.loss = t.mean_loss;
  r.passes = t.passes;
}

/// The student's epochs on its pseudo-labels, with the optimizer state s.student says.
TrainResult train_student(Model& student, const StageInputs& inputs, const TrainData& data, const StageSettings& s,
                          Rng& rng, const std::string& stage, CarriedOptimizer& carried) {
  switch (s.student) {
    case Student::copy: break;
    case Student::keep_training:
      if (!carried) carried = make_optimizer(student.parameters(), s.optimizer);
      carried->begin_stage(inputs);
      return train_epochs(student, *carried, data, s.epochs, s.batch_size, rng, stage);
    case Student::fresh_each_epoch: {
      TrainResult all;
      for (int epoch = 0; epoch < s.epochs; ++epoch) {
        auto optimizer = make_optimizer(student.parameters(), s.optimizer);
        optimizer->begin_stage(inputs);
        const TrainResult one = train_epochs(student, *optimizer, data, 1, s.batch_size, rng, stage, epoch);
        all.mean_loss = one.mean_loss;
        all.steps += one.steps;
        all.passes += one.passes;
      }
      return all;
    }
  }
  auto optimizer = make_optimizer(student.parameters(), s.optimizer);
  optimizer->begin_stage(inputs);
  return train_epochs(student, *optimizer, data, s.epochs, s.batch_size, rng, stage);
}

}  // namespace

StageRecord train_on_source(Model& model, const Domain& source, const StageSettings& s, Rng& rng) {
  auto t0 = Clock::now();
  StageRecord r;
  r.stage = 0;
  r.domain = source.name;
  r.position = source.position;
  r.samples = r.domain_size = source.size();
  auto optimizer = make_optimizer(model.parameters(), s.optimizer);
  optimizer->begin_stage({&model, source.x, {}});
  fill(r, train_epochs(model, *optimizer, {source.x, source.y, source.weight}, s.epochs, s.batch_size,
                       rng, "source"));
  r.train_seconds = seconds_since(t0);
  return r;
}

ModelPtr self_train(const ModelPtr& teacher, const Model& source, const Domain& domain,
                    const torch::Tensor& next_x, const StageSettings& s, Rng& rng, StageRecord& r,
                    CarriedOptimizer& carried) {
  auto t0 = Clock::now();
  auto student = s.student == Student::keep_training ? teacher : teacher->clone_model();
  auto logits = predict_logits(*student, domain.x, s.inference_batch);
  auto pl = confident_pseudo_labels(logits, s.drop_fraction, s.confidence);
  r.domain = domain.name;
  r.position = domain.position;
  r.domain_size = domain.size();
  r.samples = pl.keep.size(0);
  if (domain.weight.defined()) r.mass = domain.weight.sum().item<double>();
  if (domain.y.defined() && r.samples > 0)  // reported only; the true labels never train
    r.pseudo_label_accuracy =
        pl.labels.eq(domain.y.index_select(0, pl.keep)).to(torch::kFloat64).mean().item<double>();
  TrainData data{domain.x.index_select(0, pl.keep), pl.labels,
                 domain.weight.defined() ? domain.weight.index_select(0, pl.keep) : torch::Tensor()};
  fill(r, train_student(*student, {teacher.get(), domain.x, next_x, &source}, data, s, rng, domain.name, carried));
  r.train_seconds = seconds_since(t0);
  return student;
}

ModelPtr self_train_segment(const PathSegment& segment, const ModelPtr& teacher, const ModelPtr& source,
                            const StageSettings& s, Rng& rng,
                            const std::function<void(const ModelPtr&, StageRecord)>& after) {
  // In feature space the stages train views of the heads; `teacher` keeps the encoder.
  ModelPtr current = segment.features ? head_view(teacher) : teacher;
  const ModelPtr reference = segment.features ? head_view(source) : source;
  const auto& domains = segment.domains;
  ModelPtr whole = teacher;  // the whole model after the latest stage
  CarriedOptimizer carried;  // never made: segments train copies (the run refuses keep_training with them)
  for (std::size_t k = 0; k < domains.size(); ++k) {
    StageRecord r;
    const torch::Tensor next_x = k + 1 < domains.size() ? domains[k + 1].x : torch::Tensor();
    current = self_train(current, *reference, domains[k], next_x, s, rng, r, carried);
    whole = segment.features ? with_head(*teacher, *current) : current;
    after(whole, std::move(r));
  }
  return whole;
}

}  // namespace gda
