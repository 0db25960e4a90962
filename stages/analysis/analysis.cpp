#include "stages/analysis/analysis.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "core/choice.h"
#include "core/random.h"
#include "stages/analysis/sharpness.h"
#include "stages/analysis/similarity.h"
#include "stages/eval/evaluator.h"
#include "stages/optim/step_context.h"

namespace gda {
namespace {

constexpr double kMaxCount = 1e6;

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

const Choice<Sharpness> kSharpness{{"worst_case", Sharpness::worst_case},
                                   {"adaptive_worst_case", Sharpness::adaptive_worst_case},
                                   {"average_case", Sharpness::average_case},
                                   {"lambda_max", Sharpness::lambda_max},
                                   {"trace", Sharpness::trace}};
const Choice<Similarity> kSimilarity{{"linear_cka", Similarity::linear_cka}, {"rbf_cka", Similarity::rbf_cka}};
const Choice<Representation> kRepresentation{{"features", Representation::features},
                                             {"logits", Representation::logits}};
enum class Hsic { biased, unbiased };
const Choice<Hsic> kHsic{{"biased", Hsic::biased}, {"unbiased", Hsic::unbiased}};

/// A representation of x under a model: the encoder's features or the logits.
torch::Tensor represent(Model& model, const torch::Tensor& x, Representation what, std::int64_t batch) {
  switch (what) {
    case Representation::features: return encode_all(model, x, batch);
    case Representation::logits: break;
  }
  return predict_logits(model, x, batch);
}

/// One sharpness measurement of `surface`, into `put` under its name.
void measure_sharpness(const AnalysisSettings& s, Sharpness m, const LossSurface& surface, at::Generator& g,
                       const std::function<void(const std::string&, double)>& put) {
  const std::string& name = kSharpness.name(m);
  switch (m) {
    case Sharpness::worst_case:
    case Sharpness::adaptive_worst_case: {
      const bool adaptive = m == Sharpness::adaptive_worst_case;
      WorstCaseSettings w{adaptive ? s.adaptive_rho : s.rho, s.ascent_steps, adaptive, s.adaptive_eta};
      return put(name, worst_case_sharpness(surface, w, g));
    }
    case Sharpness::average_case:
      return put(name, average_case_sharpness(surface, s.sigma, s.noise_draws, g));
    case Sharpness::lambda_max: {
      const TopEigenvalue top = top_hessian_eigenvalue(surface, s.power_iterations, s.power_tolerance, g);
      put(name, top.value);
      return put("lambda_max_iterations", top.iterations);
    }
    case Sharpness::trace:
      return put(name, hessian_trace(surface, s.trace_probes, g));
  }
}

void sharpness_of(const AnalysisSettings& s, Model& copy, const AnalysisDomain& d, const torch::Tensor& labels,
                  std::int64_t batch, std::uint64_t seed, std::vector<Measurement>& out) {
  const LossSurface surface = mean_loss_surface(copy, d.x, labels, batch);
  auto gen = [&](const std::string& measure) { return analysis_generator(derive_seed(seed, d.role + "/" + measure)); };
  // A measurement that is not a finite number (a diverged loss) is left out, as the docs say.
  auto put = [&](const std::string& name, double v) {
    if (std::isfinite(v)) out.push_back({d.role, name, v});
  };
  put("loss", surface.value());
  for (const Sharpness m : s.sharpness) {
    auto g = gen(kSharpness.name(m));
    measure_sharpness(s, m, surface, g, put);
  }
}

void similarity_of(const AnalysisSettings& s, const AnalysisModels& models, const AnalysisDomain& d,
                   std::int64_t batch, std::vector<Measurement>& out) {
  const HsicEstimator estimator = s.unbiased_hsic ? HsicEstimator::unbiased : HsicEstimator::biased;
  const std::vector<std::pair<std::string, ModelPtr>> references = {{"source", models.source},
                                                                     {"teacher", models.teacher}};
  for (const auto& what : s.representations) {
    const torch::Tensor mine = represent(*models.model, d.x, what, batch);
    for (const auto& [name, reference] : references) {
      if (!reference) continue;
      const torch::Tensor theirs = represent(*reference, d.x, what, batch);
      for (const Similarity kind : s.similarity) {
        const bool linear = kind == Similarity::linear_cka;
        const auto k = linear ? linear_gram(mine) : rbf_gram(mine, s.rbf_bandwidth);
        const auto l = linear ? linear_gram(theirs) : rbf_gram(theirs, s.rbf_bandwidth);
        const double v = cka(k, l, estimator);
        if (std::isfinite(v))
          out.push_back({d.role, fmt::format("{}_{}_{}", kSimilarity.name(kind), kRepresentation.name(what), name), v});
      }
    }
  }
}

}  // namespace

ParamSpecs analysis_keys() {
  return {
      text_list("stages", "none",
                "stages to measure: \"none\" (analysis off), \"last\", \"all\", or stage numbers, e.g. [0, 5, 10] "
                "(0 = the source model)"),
      text_list("domains", "train,source,target",
                "fixed inputs to measure on: \"train\" (the stage's own domain against the teacher's pseudo-labels; "
                "at stage 0 the source's labels), \"source\", \"target\" (true labels: for analysis only, never "
                "trained on)",
                {"train", "source", "target"}),
      integer("samples", 512, "inputs per domain (drawn once from a stream of their own; the same at every stage)", 4,
              1e6),
      kSharpness.list_spec("sharpness", "worst_case,lambda_max", "sharpness measurements (docs/ANALYSIS.md)"),
      positive("rho", 0.05, "radius of worst_case's L2 ball"),
      integer("ascent_steps", 10, "projected gradient-ascent steps of worst_case and adaptive_worst_case", 1, 1e4),
      positive("adaptive_rho", 0.5, "radius of adaptive_worst_case's ball, ||e / (|w| + adaptive_eta)|| ≤ rho"),
      positive("adaptive_eta", 0.01, "adaptive_worst_case's offset added to |w|"),
      positive("sigma", 0.01, "std of average_case's Gaussian weight noise"),
      integer("noise_draws", 10, "average_case's draws of weight noise", 1, kMaxCount),
      integer("power_iterations", 20, "most Hessian-vector products lambda_max's power iteration spends", 1, kMaxCount),
      positive("power_tolerance", 1e-3, "lambda_max stops when its estimate changes by at most this fraction"),
      integer("trace_probes", 10, "Rademacher probes of trace's Hutchinson estimator", 1, kMaxCount),
      kSimilarity.list_spec("similarity", "linear_cka",
                            "representation similarity to the source model and to the teacher (the previous stage's "
                            "model)"),
      kRepresentation.list_spec("representations", "features,logits",
                                "what similarity compares: the encoder's output, the logits"),
      positive("rbf_bandwidth", 0.8, "rbf_cka's sigma as a fraction of the median distance between inputs"),
      kHsic.spec("hsic", Hsic::biased,
                 "HSIC estimator of CKA: \"biased\" (Kornblith et al.) or \"unbiased\" (Song et al. 2012)"),
  };
}

ParamRules analysis_rules() {
  return {{{"stages"}, [](const Params& p) {
             const auto items = list_items(p.text("stages"));
             for (const auto& item : items) {
               const bool word = item == "none" || item == "last" || item == "all";
               if (word && items.size() > 1)
                 return fmt::format("\"{}\" stands alone; give it by itself or list stage numbers", item);
               if (!word && (item.find_first_not_of("0123456789") != std::string::npos || item.size() > 6))
                 return fmt::format("\"{}\" is not a stage: use \"none\", \"last\", \"all\" or stage numbers (0, 1, …)",
                                    item);
             }
             if (items.empty()) return std::string("name stages (\"last\", \"all\", [0, 5]) or \"none\" for no analysis");
             return std::string();
           }}};
}

AnalysisSettings AnalysisSettings::from(const Params& p) {
  AnalysisSettings s;
  const auto stages = list_items(p.text("stages"));
  if (stages.empty() || stages.front() == "none") s.stages = Stages::none;
  else if (stages.front() == "last") s.stages = Stages::last;
  else if (stages.front() == "all") s.stages = Stages::all;
  else {
    s.stages = Stages::listed;
    for (const auto& k : stages) s.listed.push_back(std::stoi(k));
  }
  s.domains = list_items(p.text("domains"));
  s.samples = p.integer("samples");
  s.sharpness = kSharpness.items_of(p, "sharpness");
  s.similarity = kSimilarity.items_of(p, "similarity");
  s.representations = kRepresentation.items_of(p, "representations");
  s.unbiased_hsic = kHsic.of(p, "hsic") == Hsic::unbiased;
  s.rho = p.real("rho");
  s.adaptive_rho = p.real("adaptive_rho");
  s.adaptive_eta = p.real("adaptive_eta");
  s.sigma = p.real("sigma");
  s.rbf_bandwidth = p.real("rbf_bandwidth");
  s.ascent_steps = int(p.integer("ascent_steps"));
  s.noise_draws = int(p.integer("noise_draws"));
  s.power_iterations = int(p.integer("power_iterations"));
  s.trace_probes = int(p.integer("trace_probes"));
  s.power_tolerance = p.real("power_tolerance");
  return s;
}

bool AnalysisSettings::selects(int stage, bool last) const {
  switch (stages) {
    case Stages::none: return false;
    case Stages::all: return true;
    case Stages::last: return last;
    case Stages::listed: return std::find(listed.begin(), listed.end(), stage) != listed.end();
  }
  return false;
}

std::vector<Measurement> analyse_stage(const AnalysisSettings& s, const AnalysisModels& models,
                                       const std::vector<AnalysisDomain>& domains, std::int64_t batch_size,
                                       std::uint64_t seed) {
  std::vector<Measurement> out;
  for (const auto& d : domains) {
    if (!contains(s.domains, d.role) || d.x.size(0) == 0) continue;
    torch::Tensor labels = d.y;
    if (!labels.defined() && models.teacher) labels = predict_logits(*models.teacher, d.x, batch_size).argmax(1);
    if (!s.sharpness.empty() && labels.defined()) {
      EvalMode eval(*models.model);
      sharpness_of(s, *models.model, d, labels, batch_size, seed, out);
    }
    similarity_of(s, models, d, batch_size, out);
  }
  return out;
}

}  // namespace gda
