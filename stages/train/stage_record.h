#pragma once
// What one stage of a run reports: the domain it trained on, what it kept, its loss, its
// passes, and (filled in by evaluation) the accuracy of its model on each domain. The
// stages fill it; pipeline/run_record.h writes it to stages.jsonl and table.md.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stages/analysis/measurement.h"
#include "stages/optim/step_context.h"

namespace gda {

struct DomainAccuracy {
  std::string domain;
  double position = 0;
  double accuracy = 0;
};

/// Stage 0 is source training; stage k ≥ 1 is self-training on the k-th domain after the
/// source (the intermediates in order, including any a generator makes in the adaptation
/// loop, then the target).
struct StageRecord {
  int stage = 0;
  std::string domain;       ///< the domain trained on
  double position = 0;      ///< its position on the path
  std::int64_t samples = 0;          ///< samples trained on (after the confidence filter)
  std::int64_t domain_size = 0;      ///< samples in the domain
  std::optional<double> pseudo_label_accuracy;  ///< of the kept labels, vs the true ones (never used for training)
  std::optional<double> mass;  ///< total sample weight of a weighted domain (ot_path: the plan's mass, 1)
  /// Kendall's τ of a discovered order against the true one, on the stages it made (discovered).
  std::optional<double> order_tau;
  double loss = 0;          ///< mean training loss in the last epoch
  double train_seconds = 0;
  double eval_seconds = 0;
  PassCount passes;
  std::vector<DomainAccuracy> accuracies;  ///< per evaluated domain, in path order
  std::vector<Measurement> analysis;        ///< empty unless [analysis] selects the stage
  double analysis_seconds = 0;

  std::optional<double> accuracy_of(const std::string& domain) const;
  /// By position in `accuracies` (path order, as evaluation fills it): the target is the
  /// last domain of the path and always evaluated; the source and the intermediates are
  /// there only when every domain is evaluated.
  std::optional<double> target_accuracy() const;
  std::optional<double> source_accuracy() const;
  std::optional<double> mean_intermediate_accuracy() const;
};

}  // namespace gda
