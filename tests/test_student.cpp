// adaptation.student (stages/train/student.h): a copy with a fresh optimizer per stage, the
// teacher trained on with its optimizer state carried across stages (Kumar et al.), or a
// copy whose optimizer is made anew every epoch (Schapiro and Zhao). Checked on SGD with
// momentum, whose state (the momentum buffer) changes the next step visibly.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/random.h"
#include "stages/models/model.h"
#include "stages/train/self_training.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

Domain domain_of(std::uint64_t seed, const std::string& name) {
  torch::manual_seed(seed);
  const auto x = torch::randn({40, 6});
  return Domain{name, 0.5, x, (x.sum(1) > 0).to(torch::kInt64) + (x.select(1, 0) > 1).to(torch::kInt64), {}};
}

StageSettings settings(Student student, int epochs = 2) {
  StageSettings s;
  s.epochs = epochs;
  s.batch_size = 8;
  s.drop_fraction = 0.0;
  s.optimizer = optimizer_params("sgd", "sgd", {{"lr", 0.1}, {"momentum", 0.9}});
  s.student = student;
  return s;
}

ModelPtr fresh_model() {
  torch::manual_seed(7);
  return make_model("mlp", Params::defaults(model_registry().get("mlp").params), {{6}, 3});
}

/// The weights as one vector.
torch::Tensor weights(const Model& m) {
  std::vector<torch::Tensor> flat;
  for (const auto& p : m.parameters()) flat.push_back(p.detach().flatten());
  return torch::cat(flat);
}

/// Stage 1 on domain a, then stage 2 on domain b, each with its own rng seed; the models after each.
std::pair<ModelPtr, ModelPtr> two_stages(const ModelPtr& start, const StageSettings& s, CarriedOptimizer& carried) {
  const Domain a = domain_of(1, "a"), b = domain_of(2, "b");
  StageRecord r1, r2;
  Rng rng1(11), rng2(12);
  const ModelPtr after1 = self_train(start, *start, a, {}, s, rng1, r1, carried);
  const ModelPtr after2 = self_train(after1, *start, b, {}, s, rng2, r2, carried);
  EXPECT_EQ(r1.samples, 40);
  return {after1, after2};
}

TEST(Student, CopyTrainsACopyAndLeavesTheTeacher) {
  const ModelPtr teacher = fresh_model();
  const torch::Tensor before = weights(*teacher);
  CarriedOptimizer carried;
  StageRecord r;
  Rng rng(11);
  const ModelPtr student = self_train(teacher, *teacher, domain_of(1, "a"), {}, settings(Student::copy), rng, r, carried);
  EXPECT_NE(student.get(), teacher.get());
  EXPECT_TRUE(torch::equal(weights(*teacher), before));
  EXPECT_FALSE(torch::equal(weights(*student), before));
  EXPECT_EQ(carried, nullptr);
}

TEST(Student, ContinueTrainsTheTeacherAndCarriesTheOptimizerStateAcrossStages) {
  const ModelPtr start = fresh_model();
  CarriedOptimizer carried;
  const ModelPtr teacher = start->clone_model();
  const auto [after1, after2] = two_stages(teacher, settings(Student::keep_training), carried);
  // The same model trained on, in place, with one optimizer over its parameters.
  EXPECT_EQ(after1.get(), teacher.get());
  EXPECT_EQ(after2.get(), teacher.get());
  ASSERT_NE(carried, nullptr);
  EXPECT_TRUE(carried->params().front().is_same(teacher->parameters().front()));
  // Against stage 2 from the same weights with a fresh optimizer: the carried momentum
  // buffer makes a different stage 2, and without it (a fresh one) it is exactly copy's.
  CarriedOptimizer restart;
  const ModelPtr again = start->clone_model();
  auto [copy1, copy2] = two_stages(again, settings(Student::copy), restart);
  // Stage 1 is the same under both policies: one stage from the same weights and draws.
  const ModelPtr redo = start->clone_model();
  CarriedOptimizer unused;
  StageRecord r;
  Rng rng1(11);
  const ModelPtr kept1 = self_train(redo, *start, domain_of(1, "a"), {}, settings(Student::keep_training), rng1, r,
                                    unused);
  EXPECT_TRUE(torch::equal(weights(*kept1), weights(*copy1)));
  EXPECT_FALSE(torch::equal(weights(*after2), weights(*copy2)));
}

TEST(Student, FreshEachEpochRemakesTheOptimizerEveryEpoch) {
  const ModelPtr start = fresh_model();
  auto stage = [&](Student student, int epochs) {
    CarriedOptimizer carried;
    StageRecord r;
    Rng rng(11);
    const ModelPtr m = self_train(start, *start, domain_of(1, "a"), {}, settings(student, epochs), rng, r, carried);
    EXPECT_EQ(carried, nullptr);
    EXPECT_EQ(r.passes.forward, 5 * epochs);  // 40 samples in batches of 8, one pass each
    return weights(*m);
  };
  // One epoch: nothing to reset, the same as copy. Two: momentum restarts at epoch 2.
  EXPECT_TRUE(torch::equal(stage(Student::fresh_each_epoch, 1), stage(Student::copy, 1)));
  EXPECT_FALSE(torch::equal(stage(Student::fresh_each_epoch, 2), stage(Student::copy, 2)));
}

}  // namespace
}  // namespace gda::test
