#pragma once
// The [analysis] section: sharpness (stages/analysis/sharpness.h) and representation
// similarity (stages/analysis/similarity.h) of a stage's model on fixed inputs of a few
// domains, measured beside evaluation. Off by default; docs/CONFIG.md lists the keys and
// docs/ANALYSIS.md says what each measurement is.
#include <cstdint>
#include <string>
#include <vector>

#include "core/params.h"
#include "stages/models/model.h"
#include "stages/analysis/measurement.h"

namespace gda {

/// The measurements [analysis] can make (docs/ANALYSIS.md), named in the keys by their
/// enumerators' names.
enum class Sharpness { worst_case, adaptive_worst_case, average_case, lambda_max, trace };
enum class Similarity { linear_cka, rbf_cka };
enum class Representation { features, logits };

/// The keys of [analysis] and their rules (config_schema() shows them as a section).
ParamSpecs analysis_keys();
ParamRules analysis_rules();

struct AnalysisSettings {
  enum class Stages { none, last, all, listed } stages = Stages::none;
  std::vector<int> listed;          ///< the stages of Stages::listed
  std::vector<std::string> domains;  ///< among "train", "source", "target"
  std::int64_t samples = 512;
  std::vector<Sharpness> sharpness;
  std::vector<Similarity> similarity;
  std::vector<Representation> representations;
  bool unbiased_hsic = false;
  double rho = 0.05, adaptive_rho = 0.5, adaptive_eta = 0.01, sigma = 0.01, rbf_bandwidth = 0.8;
  int ascent_steps = 10, noise_draws = 10, power_iterations = 20, trace_probes = 10;
  double power_tolerance = 1e-3;

  static AnalysisSettings from(const Params& analysis);
  bool on() const { return stages != Stages::none; }
  /// Whether stage `stage` is measured; `last`: it is the path's last stage.
  bool selects(int stage, bool last) const;
};

/// Fixed inputs of one domain. y: the labels the loss is measured against (true labels on
/// the source and the target, the source's own at stage 0); undefined for a stage's
/// training domain, whose labels are then the teacher's pseudo-labels.
struct AnalysisDomain {
  std::string role;  ///< "train", "source" or "target": the key in stages.jsonl
  torch::Tensor x, y;
};

/// The models a stage is compared with. teacher: the model that pseudo-labelled the stage
/// (null at stage 0); source: the model after source training.
struct AnalysisModels {
  ModelPtr model, teacher, source;
};

/// Every selected measurement of `models.model` on every domain, in eval mode (BatchNorm's
/// running statistics, no dropout). The sharpness measurements move `models.model`'s weights
/// and then write back their exact values, so give it a copy of its own (the run hands over
/// one made by Model::quiet_clone); the teacher and the source are only read, in eval mode,
/// and may be shared. Every draw comes from generators seeded by `seed`.
std::vector<Measurement> analyse_stage(const AnalysisSettings& s, const AnalysisModels& models,
                                       const std::vector<AnalysisDomain>& domains, std::int64_t batch_size,
                                       std::uint64_t seed);

}  // namespace gda
