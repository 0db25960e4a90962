// The machine-readable report: report.csv, stages.csv, analysis_stages.csv and report.json.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "core/stopwatch.h"
#include "pipeline/run_record.h"
#include "pipeline/sweep/report_parts.h"

namespace gda {
namespace sweep_report {

using nlohmann::json;
namespace {

json mean_std_json(const MeanStd& m) {
  return {{"mean", m.mean ? json(*m.mean) : json(nullptr)}, {"std", m.std ? json(*m.std) : json(nullptr)}, {"n", m.n}};
}

std::string csv_num(const std::optional<double>& v) { return v ? fmt::format("{:.6g}", *v) : ""; }

json context_json(const SweepReport& report) {
  const BuildInfo b = build_info();
  return {{"plan_hash", report.plan_hash}, {"sweep_file", report.sweep_file},
          {"threads_per_job", report.threads_per_job}, {"hosts", report.hosts}, {"runs_made_by", report.builds},
          {"devices", report.devices}, {"made", utc_now_iso()}, {"gda", b.gda}, {"commit", b.commit},
          {"libtorch", b.libtorch}};
}

json group_json(const ResultGroup& g) {
  json jg = {{"point", json::object()},
             {"label", g.label},
             {"final_target_accuracy", mean_std_json(g.final_target)},
             {"zero_shot_target_accuracy", mean_std_json(g.zero_shot)},
             {"seconds", mean_std_json(g.seconds)},
             {"forward_passes", mean_std_json(g.forward)},
             {"backward_passes", mean_std_json(g.backward)},
             {"stage_target_accuracy", json::array()},
             {"runs", json::array()}};
  for (const auto& [k, v] : g.point) jg["point"][k] = unquote(v);
  for (const auto& st : g.stage_target) jg["stage_target_accuracy"].push_back(mean_std_json(st));
  if (!g.stage_analysis.empty()) {
    json a = json::object();
    for (const auto& [name, per_stage] : g.stage_analysis)
      for (const auto& m : per_stage) a[name].push_back(mean_std_json(m));
    jg["stage_analysis"] = a;
  }
  if (g.vs_baseline) {
    auto num = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
    jg["final_target_vs_baseline"] = {{"mean", num(g.vs_baseline->mean)}, {"ci95_low", num(g.vs_baseline->low)},
                                      {"ci95_high", num(g.vs_baseline->high)}, {"n", g.vs_baseline->n}};
  }
  for (const auto& r : g.runs)
    jg["runs"].push_back({{"hash", r.hash}, {"seed", r.seed}, {"status", r.status_word()}, {"error", r.error},
                          {"final_target_accuracy", r.final_target ? json(*r.final_target) : json(nullptr)}});
  return jg;
}

}  // namespace

/// analysis_stages.csv: every measurement per group and stage.
std::string analysis_csv(const SweepReport& report) {
  std::string csv = "group,stage,measurement,mean,std,n\n";
  for (const auto& g : report.groups)
    for (const auto& [name, per_stage] : g.stage_analysis)
      for (std::size_t k = 0; k < per_stage.size(); ++k)
        if (per_stage[k].mean)
          csv += fmt::format("\"{}\",{},{},{},{},{}\n", g.label, k, name, csv_num(per_stage[k].mean),
                             csv_num(per_stage[k].std), per_stage[k].n);
  return csv;
}

/// report.csv: one row per group.
std::string groups_csv(const SweepReport& report) {
  std::string csv;
  for (const auto& a : report.axes) csv += a + ",";
  csv += "seeds_ok,final_target_mean,final_target_std,zero_shot_mean,zero_shot_std,seconds_mean,forward_mean,"
         "backward_mean,vs_baseline_mean,vs_baseline_ci95_low,vs_baseline_ci95_high,vs_baseline_n\n";
  for (const auto& g : report.groups) {
    for (const auto& a : report.axes) csv += "\"" + (g.point.count(a) ? unquote(g.point.at(a)) : "") + "\",";
    const MeanCi d = g.vs_baseline.value_or(MeanCi{});
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", g.final_target.n, csv_num(g.final_target.mean),
                       csv_num(g.final_target.std), csv_num(g.zero_shot.mean), csv_num(g.zero_shot.std),
                       csv_num(g.seconds.mean), csv_num(g.forward.mean), csv_num(g.backward.mean), csv_num(d.mean),
                       csv_num(d.low), csv_num(d.high), g.vs_baseline ? std::to_string(d.n) : "");
  }
  return csv;
}

/// stages.csv: target accuracy per group and stage.
std::string stages_csv(const SweepReport& report) {
  std::string csv = "group,stage,target_mean,target_std,n\n";
  for (const auto& g : report.groups)
    for (std::size_t k = 0; k < g.stage_target.size(); ++k)
      csv += fmt::format("\"{}\",{},{},{},{}\n", g.label, k, csv_num(g.stage_target[k].mean),
                         csv_num(g.stage_target[k].std), g.stage_target[k].n);
  return csv;
}

/// report.json: the axes and every group with its runs.
std::string report_json(const SweepReport& report) {
  json j = {{"context", context_json(report)}, {"axes", report.axes}, {"compare_axis", report.compare_axis},
            {"baseline", report.baseline.empty() ? "" : unquote(report.baseline)}, {"groups", json::array()}};
  for (const auto& g : report.groups) j["groups"].push_back(group_json(g));
  auto correlation = [](const std::optional<RankCorrelation>& c) {
    return c ? json{{"rho", c->rho}, {"p_value", c->p_value}, {"n", c->n}} : json(nullptr);
  };
  for (const auto& m : report.sharpness_vs_accuracy)
    j["sharpness_vs_accuracy"].push_back(
        {{"measurement", m.measurement}, {"over_runs", correlation(m.over_runs)}, {"over_groups", correlation(m.over_groups)}});
  return j.dump(2) + "\n";
}

}  // namespace sweep_report

}  // namespace gda
