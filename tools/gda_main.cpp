// The gda command line: run, validate, list, diff, and the sweep commands (sweep, job, report).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <optional>

#include "datasets/dataset.h"
#include "pipeline/config.h"
#include "pipeline/config_diff.h"
#include "pipeline/config_reference.h"
#include "core/error.h"
#include "core/params.h"
#include "core/libstdcxx_guard.h"
#include "pipeline/run.h"
#include "pipeline/sweep/job.h"
#include "tools/sweep_commands.h"
#include "stages/models/model.h"
#include "stages/optim/optimizer.h"
#include "stages/shift/generator.h"

namespace {

template <class R>
void print_registry(const R& registry) {
  for (const auto* e : registry.all()) {
    std::cout << e->name << (e->cost.empty() ? "" : "  [" + e->cost + "]") << "\n    " << e->summary << "\n";
    for (const auto& p : e->params)
      std::cout << fmt::format("    {:<20} = {:<12} {}{}\n", p.name, gda::value_to_string(p.default_value), p.doc,
                               p.range_text().empty() ? "" : " (" + p.range_text() + ")");
  }
}

int list(const std::string& what) {
  if (what == "optimizers") print_registry(gda::optimizer_registry());
  else if (what == "generators") print_registry(gda::generator_registry());
  else if (what == "datasets") print_registry(gda::dataset_registry());
  else if (what == "models") print_registry(gda::model_registry());
  else if (what == "config") std::cout << gda::config_reference_markdown();
  return 0;
}

/// `gda diff A B`: exit 0 when the two are equal, 1 when they differ (as diff does).
struct DiffArgs {
  std::string a, b;
  CLI::App* command = nullptr;
};

void add_diff_command(CLI::App& app, DiffArgs& d) {
  d.command = app.add_subcommand("diff", "print every resolved key in which two configs, runs or sweep folders "
                                         "differ (and, for runs, the build and device); exit 1 when they differ");
  d.command->add_option("a", d.a, "config file, run folder or sweep folder")->required();
  d.command->add_option("b", d.b, "config file, run folder or sweep folder")->required();
}

int diff_command(const DiffArgs& d) {
  const std::string differences = gda::describe_difference(gda::diff_side(d.a), gda::diff_side(d.b));
  if (differences.empty()) {
    std::cout << d.a << " and " << d.b << ": no difference\n";
    return 0;
  }
  std::cout << "key  " << d.a << "  |  " << d.b << "\n" << differences;
  return 1;
}

/// What run, validate and list take from the command line.
struct RunArgs {
  std::string config_path, out_dir, what, device;
  std::vector<std::string> overrides;
  std::optional<std::string> seed;  ///< as typed: CLI11 would clamp 2^63 to the largest long
  std::optional<long> threads;
  CLI::App *run = nullptr, *validate = nullptr, *list = nullptr;
};

void add_run_commands(CLI::App& app, RunArgs& a) {
  a.run = app.add_subcommand("run", "run the experiment a config describes and print the per-stage table");
  a.run->add_option("config", a.config_path, "TOML config file")->required();
  a.run->add_option("--seed", a.seed, "seed (overrides the config's seed)");
  a.run->add_option("--threads", a.threads, "threads (overrides the config's threads)");
  a.run->add_option("--device", a.device, "auto | cpu | cuda | cuda:N (overrides the config's device)");
  a.run->add_option("--out", a.out_dir, "run directory (default: output.dir/output.name)");
  a.run->add_option("--set", a.overrides, "override a key: --set optimizer.rho=0.1 (repeatable)");

  a.validate = app.add_subcommand("validate", "check a config and print it resolved (defaults filled in)");
  a.validate->add_option("config", a.config_path, "TOML config file")->required();
  a.validate->add_option("--set", a.overrides, "override a key: --set optimizer.rho=0.1 (repeatable)");

  a.list = app.add_subcommand("list", "list registered components with their keys and defaults");
  a.list->add_option("what", a.what, "optimizers | generators | datasets | models | config (every config key, as Markdown)")
      ->required()
      ->check(CLI::IsMember({"optimizers", "generators", "datasets", "models", "config"}));
}

/// Appends the flags' overrides and refuses a key given twice (two --set, or --seed with
/// --set seed=…): which one should win is the user's to say, not an order's.
void add_flag_overrides(RunArgs& a) {
  if (a.seed) {
    // Seeds are 0 … 2^63 − 1 (the config's integers); a larger one is refused, not clamped,
    // or every seed past it would be one run.
    std::string s = *a.seed;
    s.erase(0, std::min(s.find_first_not_of('0'), s.size() - 1));  // 007 is 7 (TOML refuses leading zeros)
    if (s.empty() || s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos ||
        (s.size() == 19 && s > "9223372036854775807"))
      throw gda::UserError("--seed " + gda::text_for_message(*a.seed) +
                           ": give a whole number from 0 to 9223372036854775807");
    a.overrides.push_back("seed=" + s);
  }
  if (a.threads) a.overrides.push_back(fmt::format("threads={}", *a.threads));
  if (!a.device.empty()) a.overrides.push_back("device=" + a.device);
  std::map<std::string, std::string> given;
  for (const auto& o : a.overrides) {
    const std::string key = o.substr(0, o.find('='));
    if (auto [it, fresh] = given.emplace(key, o); !fresh)
      throw gda::UserError(fmt::format("{} is given twice on the command line ({} and {}); give it once", key,
                                       it->second, o));
  }
}

/// validate or run; the exit code of the run's end.
int run_command(RunArgs& a) {
  add_flag_overrides(a);
  auto config = gda::load_config(a.config_path, a.overrides);
  if (a.validate->parsed()) {
    std::cout << config.to_toml();
    std::cerr << a.config_path << ": ok\n";
    return 0;
  }
  const std::string out = a.out_dir.empty() ? gda::default_run_dir(config) : a.out_dir;
  if (const std::string sweep = gda::sweep_folder_around(out); !sweep.empty())
    throw gda::UserError(fmt::format("{} is inside the sweep folder {}, whose runs are the sweep's to write; give "
                                     "another --out (gda job {} --index I runs one of the sweep's jobs)", out, sweep,
                                     sweep));
  auto summary = gda::run_experiment(config, {a.out_dir, &std::cout});
  // Stages finished before an error or a failure are kept either way.
  return gda::exit_code(summary.status);
}

}  // namespace

int main(int argc, char** argv) {
  gda::use_system_libstdcxx(argv);
  CLI::App app{"gda: gradual domain adaptation experiments from a TOML config"};
  app.require_subcommand(1);
  RunArgs run_args;
  add_run_commands(app, run_args);
  gda::SweepArgs sweep_args;
  gda::add_sweep_commands(app, sweep_args);
  DiffArgs diff_args;
  add_diff_command(app, diff_args);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and ends with 0; a mistake on the command line is an input mistake: its
    // message (and usage) from CLI11, then exit 2 like every other one.
    const int printed = app.exit(e);
    return printed == 0 ? 0 : 2;
  }
  try {
    if (run_args.list->parsed()) return list(run_args.what);
    if (diff_args.command->parsed()) return diff_command(diff_args);
    if (gda::sweep_command_given(sweep_args)) return gda::run_sweep_command(sweep_args);
    return run_command(run_args);
  } catch (const gda::UserError& e) {
    std::cerr << "gda: error: " << e.what() << "\n";
    return 2;
  } catch (const std::filesystem::filesystem_error& e) {
    // A folder that cannot be made or written (a file in the way, no permission, /proc, a
    // full disk): the machine's state, not a bug of gda's; the message names the path.
    std::cerr << "gda: error: " << e.what() << "; check the output paths (--out, output.dir) and their permissions\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "gda: internal error (please report): " << e.what() << "\n";
    return 70;
  } catch (...) {  // only a plugin's code throws what is not a std::exception
    std::cerr << "gda: error: something threw a value that is not a std::exception (a plugin's code?); the "
                 "stages finished before it are kept\n";
    return 70;
  }
}
