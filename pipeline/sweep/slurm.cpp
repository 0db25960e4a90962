#include "pipeline/sweep/slurm.h"

#include <fmt/format.h>

#include <array>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "core/files.h"

namespace gda {
namespace {

namespace fs = std::filesystem;

std::string header(const std::string& name, const std::string& dir, const SlurmOptions& o, int threads,
                   bool gpu) {
  std::string h = fmt::format("#!/bin/bash\n#SBATCH --job-name=gda-{}\n#SBATCH --cpus-per-task={}\n"
                              "#SBATCH --output={}/slurm/%x-%A_%a.out\n", name, threads, dir);
  if (gpu) h += "#SBATCH --gres=gpu:1\n";
  for (const auto& s : o.sbatch) h += "#SBATCH " + s + "\n";
  return h;
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

std::vector<SlurmScript> slurm_scripts(const std::string& dir, const SweepPlan& plan, const SlurmOptions& o) {
  const int sources = plan.count(SweepJob::Kind::source), runs = plan.count(SweepJob::Kind::run);
  const std::string throttle = o.max_parallel > 0 ? fmt::format("%{}", o.max_parallel) : "";
  std::vector<SlurmScript> scripts;
  auto array = [&](const std::string& name, int offset, int count) {
    // Slurm's --gres makes the task's one GPU its CUDA_VISIBLE_DEVICES: "cuda" is that GPU.
    const std::string device = o.gpu ? "cuda" : o.device;
    scripts.push_back({name, header(name, dir, o, plan.threads_per_job, o.gpu) +
                                 fmt::format("#SBATCH --array=0-{}{}\n", count - 1, throttle) +
                                 fmt::format("# jobs {} … {} of {}/plan.json\n", offset, offset + count - 1, dir) +
                                 fmt::format("exec {} job {} --index $(({} + SLURM_ARRAY_TASK_ID)){}\n",
                                             quote(o.gda_binary), quote(dir), offset,
                                             device.empty() ? "" : " --device " + quote(device))});
  };
  if (sources > 0) array("sources", 0, sources);
  if (runs > 0) array("runs", sources, runs);
  scripts.push_back({"report", header("report", dir, o, 1, false) + fmt::format("exec {} report {}\n", quote(o.gda_binary),
                                                                          quote(dir))});
  return scripts;
}

std::vector<std::string> submit_to_slurm(const std::string& dir, const std::vector<SlurmScript>& scripts) {
  if (std::system("command -v sbatch >/dev/null 2>&1") != 0)
    throw UserError("--launcher slurm: sbatch is not on PATH (run on a Slurm login node, or use --launcher local)");
  fs::create_directories(dir + "/slurm");
  std::vector<std::string> lines;
  std::string previous;
  for (const auto& s : scripts) {
    const std::string path = dir + "/slurm/" + s.name + ".sbatch";
    atomic_write(path, s.text);
    const std::string cmd = "sbatch --parsable" + (previous.empty() ? "" : " --dependency=afterany:" + previous) +
                            " " + quote(path) + " 2>&1";
    std::FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) throw UserError("--launcher slurm: cannot run sbatch");
    std::string out;
    std::array<char, 256> buf{};
    while (std::fgets(buf.data(), int(buf.size()), p)) out += buf.data();
    const int rc = ::pclose(p);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    if (rc != 0 || out.empty() || out.find_first_not_of("0123456789;") != std::string::npos)
      throw UserError(fmt::format("--launcher slurm: sbatch refused {}: {}", path, out));
    previous = out.substr(0, out.find(';'));
    lines.push_back(fmt::format("{}: Slurm job {}", s.name, previous));
  }
  return lines;
}

}  // namespace gda
