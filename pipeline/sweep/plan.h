#pragma once
// A sweep: a base config and a grid of config keys, expanded into jobs. Each resolved run
// is one "run" job; runs whose data, model and source training are identical share one
// "source" job that trains the source model once. A job's identity is a hash of the
// resolved config parts that affect it, so re-planning the same sweep finds the same jobs.
#include <map>
#include <string>
#include <vector>

namespace gda {

class Config;

struct SweepJob {
  enum class Kind { source, run };
  int index = 0;
  Kind kind = Kind::run;
  std::string hash;                    ///< identity: source hash or run hash
  std::string source_hash;             ///< a run's source job (its own hash for a source job)
  std::vector<std::string> overrides;  ///< "key=value" applied to the base config
  std::map<std::string, std::string> point;  ///< the swept keys and their values (TOML text)
  std::vector<int> needs;              ///< indices of jobs that must finish first
  std::string label;                   ///< e.g. "optimizer.name=sam shift.T=5 seed=1"
  /// The resolved config (TOML) as planned: a job runs this, not the base config re-read,
  /// so editing the base during a sweep cannot mix two configs under one plan. "" in plans
  /// written before it was kept (the job then re-reads the base and checks its hash).
  std::string config;

  std::string dir_name() const;        ///< "sources/<hash>" or "runs/<hash>"
};

struct SweepPlan {
  std::string sweep_file;    ///< absolute path
  std::string base_config;   ///< absolute path
  int threads_per_job = 1;
  std::vector<std::string> axes;  ///< swept keys: the grid's (in key order), then those of [[points]]
  std::vector<SweepJob> jobs;     ///< source jobs first, then runs
  /// What the report's paired differences compare ([compare] in the sweep file): each value
  /// of `compare_axis` against `baseline` (TOML text, as in SweepJob::point) on the same
  /// seeds. Default: optimizer.name when it is swept (else the first swept key but seed),
  /// and its first value. Empty when nothing but the seed is swept.
  std::string compare_axis, baseline;
  /// The interval of those differences: "t" (Student's t, the default) or "bootstrap" (the
  /// paired percentile bootstrap; [compare] interval).
  std::string interval = "t";

  int count(SweepJob::Kind k) const;
  std::string to_json() const;
  static SweepPlan from_json(const std::string& text, const std::string& name);
};

/// Reads a sweep file and expands it (docs/SWEEPS.md has the format). Every point's config
/// is validated; errors name the sweep file, the point and the key.
SweepPlan plan_sweep(const std::string& sweep_file, int threads_per_job);

/// The comparison a sweep file without [compare] gets (and a plan from before [compare]):
/// optimizer.name when it is swept, else the first swept key but seed; the first value a
/// run job gives it. Leaves both empty when only seeds are swept.
void set_default_comparison(SweepPlan& plan);

/// Hash of every resolved key that is part of a run's identity, as the schema declares it
/// (pipeline/config_schema.h: SectionSchema::part, ParamSpec::identity): all but [output],
/// the device, deterministic and tf32 at their defaults, and [analysis] while it is off.
std::string run_hash(const Config& c);

/// Hash of the keys that are part of a source model's identity (Part::run_and_source): the
/// seed, threads, [data], [model], [source], [shift] but T (the source domain is position 0
/// of any schedule), and [optimizer] when source.optimizer = "same".
std::string source_hash(const Config& c);

/// The config of a job: the one frozen in the plan (or, for older plans, the base with the
/// job's overrides), with `extra` overrides on top (e.g. the device). Throws UserError when
/// it no longer has the job's hash (plan.json edited, or an older plan's base changed).
Config job_config(const SweepPlan& plan, const SweepJob& job, const std::vector<std::string>& extra = {});

}  // namespace gda
