#include "pipeline/run_record.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include <torch/version.h>

#include "core/error.h"
#include "core/files.h"

namespace gda {
namespace {

using nlohmann::json;

json passes_json(const PassCount& p) {
  return {{"forward", p.forward}, {"backward", p.backward},
          {"forward_samples", p.forward_samples}, {"backward_samples", p.backward_samples}};
}

template <class T>
json optional_json(const std::optional<T>& v) {
  return v ? json(*v) : json(nullptr);
}

std::string percent(std::optional<double> v) { return v ? fmt::format("{:.1f}", 100 * *v) : "-"; }

/// The [analysis] measurements as a second table: a row per measured stage and domain, a
/// column per measurement ("" when there are none).
std::string analysis_markdown(const std::vector<StageRecord>& stages) {
  std::vector<std::string> names;
  for (const auto& r : stages)
    for (const auto& m : r.analysis)
      if (std::find(names.begin(), names.end(), m.name) == names.end()) names.push_back(m.name);
  if (names.empty()) return "";
  std::string md = "\n### Analysis (docs/ANALYSIS.md)\n\n| stage | domain |";
  for (const auto& n : names) md += " " + n + " |";
  md += "\n|---|---|";
  for (std::size_t i = 0; i < names.size(); ++i) md += "---|";
  md += "\n";
  for (const auto& r : stages) {
    std::vector<std::string> domains;
    for (const auto& m : r.analysis)
      if (std::find(domains.begin(), domains.end(), m.domain) == domains.end()) domains.push_back(m.domain);
    for (const auto& d : domains) {
      md += fmt::format("| {} | {} |", r.stage, d);
      for (const auto& n : names) {
        std::string cell = " - |";
        for (const auto& m : r.analysis)
          if (m.domain == d && m.name == n) cell = fmt::format(" {:.4g} |", m.value);
        md += cell;
      }
      md += "\n";
    }
  }
  return md;
}

}  // namespace

BuildInfo build_info() {
  return {GDA_VERSION, GDA_COMMIT, fmt::format("{}.{}.{}", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH)};
}

RunRecorder::RunRecorder(std::string dir, std::ostream* console) : dir_(std::move(dir)), console_(console) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec || !fs::is_directory(dir_))
    throw UserError(fmt::format("cannot make the run directory {} ({}); choose another --out or output.dir", dir_,
                                ec ? ec.message() : "a file of that name is in the way"));
  // A folder of something else (--out ~, or one holding a log.txt of the user's) is
  // refused: a run would mix its files in. gda's own runs are known by their resolved config.
  const bool earlier_run = fs::exists(dir_ + "/config.resolved.toml");
  if (!earlier_run)
    for (const auto& e : fs::directory_iterator(dir_, ec))
      if (e.path().filename() != kLockFile)  // left by a run that ended before its config was written
        throw UserError(fmt::format("the run directory {} is not empty and holds no earlier run (it has {}); give a "
                                    "new or empty folder as --out or output.name", dir_,
                                    e.path().filename().string()));
  // One writer at a time: a second run into the folder waits a little, then is refused.
  lock_ = std::make_unique<FileLock>(dir_ + "/" + kLockFile, 3, "the run directory " + dir_,
                                     "wait for that run to end, or give this one another --out");
  // A run into a folder that held an earlier run replaces it: none of the earlier run's
  // results may stay beside the new config (a failed rerun would otherwise look finished).
  for (const char* old : {"summary.json", "stages.jsonl", "table.md"}) replaced_ |= fs::remove(dir_ + "/" + old, ec);
  // What an earlier run's failed writes left (core/files.h's atomic_write: NAME.tmp.PID).
  std::vector<fs::path> leftovers;
  for (const auto& e : fs::directory_iterator(dir_, ec))
    if (e.path().filename().string().find(".tmp.") != std::string::npos) leftovers.push_back(e.path());
  for (const auto& p : leftovers) fs::remove(p, ec);
}

void RunRecorder::write_config(const std::string& resolved_toml) {
  // The config first: it marks the folder as a run of gda's (a log.txt alone may be the user's).
  atomic_write(dir_ + "/config.resolved.toml", resolved_toml);
  if (!std::ofstream(dir_ + "/log.txt", std::ios::trunc))
    throw UserError(fmt::format("cannot write in the run directory {}; check its permissions", dir_));
  if (replaced_) log("note: " + dir_ + " held an earlier run; its results were removed");
}

RunRecorder::~RunRecorder() = default;

void RunRecorder::log(const std::string& line) {
  std::ofstream out(dir_ + "/log.txt", std::ios::app);
  out << line << "\n";
  out.close();
  if (console_) *console_ << line << std::endl;
  if (!out && !log_failed_) {  // a full disk: said once, where it can still be read
    log_failed_ = true;
    (console_ ? *console_ : std::cerr) << "gda: warning: cannot write " << dir_
                                       << "/log.txt (disk full?); its lines from here on are only on the console"
                                       << std::endl;
  }
}

std::string stage_json_line(const StageRecord& r) {
  json acc = json::object();
  for (const auto& a : r.accuracies) acc[a.domain] = a.accuracy;
  json line = {{"stage", r.stage},
               {"domain", r.domain},
               {"position", r.position},
               {"samples", r.samples},
               {"domain_size", r.domain_size},
               {"pseudo_label_accuracy", optional_json(r.pseudo_label_accuracy)},
               {"mass", optional_json(r.mass)},
               {"loss", r.loss},
               {"train_seconds", r.train_seconds},
               {"eval_seconds", r.eval_seconds},
               {"passes", passes_json(r.passes)},
               {"accuracy", acc}};
  if (r.order_tau) line["discovered_order_tau"] = *r.order_tau;
  if (!r.analysis.empty()) {
    json analysis = json::object();
    for (const auto& m : r.analysis) analysis[m.domain][m.name] = m.value;
    line["analysis"] = analysis;
    line["analysis_seconds"] = r.analysis_seconds;
  }
  return line.dump();
}

namespace {

StageMeasurements measurements_of(const json& j) {
  StageMeasurements m;
  for (const auto& [domain, acc] : j.at("accuracy").items()) m.accuracies.push_back({domain, 0.0, acc.get<double>()});
  if (const auto a = j.find("analysis"); a != j.end())
    for (const auto& [domain, values] : a->items())
      for (const auto& [name, v] : values.items())
        if (!v.is_null()) m.analysis.push_back({domain, name, v.get<double>()});
  return m;
}

}  // namespace

StageRecord stage_from_json_line(const std::string& text) {
  const json j = json::parse(text);
  StageRecord r;
  r.stage = j.at("stage").get<int>();
  r.domain = j.at("domain").get<std::string>();
  r.position = j.at("position").get<double>();
  r.samples = j.at("samples").get<std::int64_t>();
  r.domain_size = j.at("domain_size").get<std::int64_t>();
  if (!j.at("pseudo_label_accuracy").is_null()) r.pseudo_label_accuracy = j["pseudo_label_accuracy"].get<double>();
  if (j.contains("mass") && !j["mass"].is_null()) r.mass = j["mass"].get<double>();
  if (const auto tau = j.find("discovered_order_tau"); tau != j.end() && tau->is_number()) r.order_tau = tau->get<double>();
  r.loss = j.at("loss").get<double>();
  r.train_seconds = j.at("train_seconds").get<double>();
  r.eval_seconds = j.at("eval_seconds").get<double>();
  const json& p = j.at("passes");
  r.passes.forward = p.at("forward").get<std::int64_t>();
  r.passes.backward = p.at("backward").get<std::int64_t>();
  r.passes.forward_samples = p.at("forward_samples").get<std::int64_t>();
  r.passes.backward_samples = p.at("backward_samples").get<std::int64_t>();
  // Accuracies are stored by domain name; path order is the caller's (the run re-evaluates).
  StageMeasurements measured = measurements_of(j);
  r.accuracies = std::move(measured.accuracies);
  r.analysis = std::move(measured.analysis);
  r.analysis_seconds = j.value("analysis_seconds", 0.0);
  return r;
}

StageMeasurements stage_measurements_from_json_line(const std::string& line) { return measurements_of(json::parse(line)); }

void RunRecorder::add_stage(const StageRecord& r) {
  stages_.push_back(r);
  jsonl_ += stage_json_line(r) + "\n";
  atomic_write(dir_ + "/stages.jsonl", jsonl_);
  atomic_write(dir_ + "/table.md", markdown(nullptr));
  log(fmt::format("{:>5} {:<8} {:>5.2f} {:>6} {:>6} {:>7.4f} {:>7} {:>7} {:>7} {:>7.1f}", r.stage, r.domain,
                  r.position, r.samples, percent(r.pseudo_label_accuracy), r.loss,
                  percent(r.source_accuracy()), percent(r.mean_intermediate_accuracy()), percent(r.target_accuracy()),
                  r.train_seconds));
}

std::string RunRecorder::markdown(const RunSummary* s) const {
  std::string md;
  std::vector<std::string> domains;
  if (!stages_.empty())
    for (const auto& a : stages_.front().accuracies) domains.push_back(a.domain);
  md += "| stage | trained on | position | samples | pseudo-label acc % | loss |";
  for (const auto& d : domains) md += " " + d + " % |";
  md += " train s |\n|---|---|---|---|---|---|";
  for (std::size_t i = 0; i < domains.size(); ++i) md += "---|";
  md += "---|\n";
  for (const auto& r : stages_) {
    md += fmt::format("| {} | {} | {:.3f} | {} | {} | {:.4f} |", r.stage, r.domain, r.position, r.samples,
                      percent(r.pseudo_label_accuracy), r.loss);
    for (const auto& d : domains) md += " " + percent(r.accuracy_of(d)) + " |";
    md += fmt::format(" {:.1f} |\n", r.train_seconds);
  }
  md += analysis_markdown(stages_);
  if (s) {
    md += fmt::format(
        "\nstatus: {}{}\n\nzero-shot target accuracy: {} %  \nfinal target accuracy: {} %  \n"
        "seconds: data {:.1f}, source {:.1f}, adaptation {:.1f}, evaluation {:.1f} (overlaps training), "
        "total {:.1f}  \ndevice: {}  \nthreads: {} (training {} intra-op, evaluation {} intra-op)  \n"
        "passes: {} forward, {} backward\n",
        status_name(s->status), s->error.empty() ? "" : " — " + s->error, percent(s->zero_shot_target_accuracy),
        percent(s->final_target_accuracy), s->seconds.data, s->seconds.source, s->seconds.adaptation,
        s->seconds.evaluation, s->seconds.total, s->device, s->threads, s->train_threads, s->eval_threads,
        s->passes.forward, s->passes.backward);
  }
  return md;
}

void RunRecorder::finish(const RunSummary& s) {
  json j = {{"status", status_name(s.status)},
            {"error", s.error},
            {"config_hash", s.config_hash},
            {"seed", s.seed},
            {"source_model", s.source_reused ? "reused" : "trained"},
            {"target_domain", s.target_domain},
            {"device", s.device},
            {"context",
             {{"gda", build_info().gda}, {"commit", build_info().commit}, {"libtorch", build_info().libtorch},
              {"host", s.host}, {"started", s.started}}},
            {"threads", {{"total", s.threads}, {"train_intra_op", s.train_threads}, {"eval_intra_op", s.eval_threads}}},
            {"zero_shot_target_accuracy", optional_json(s.zero_shot_target_accuracy)},
            {"final_target_accuracy", optional_json(s.final_target_accuracy)},
            {"seconds",
             {{"data", s.seconds.data}, {"source", s.seconds.source}, {"adaptation", s.seconds.adaptation},
              {"evaluation", s.seconds.evaluation}, {"analysis", s.seconds.analysis}, {"total", s.seconds.total}}},
            {"passes", passes_json(s.passes)},
            {"stages", stages_.size()}};
  atomic_write(dir_ + "/summary.json", j.dump(2) + "\n");
  atomic_write(dir_ + "/table.md", markdown(&s));
}

}  // namespace gda
