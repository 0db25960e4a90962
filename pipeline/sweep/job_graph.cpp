#include "pipeline/sweep/job_graph.h"

#include <fmt/format.h>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/topological_sort.hpp>
#include <map>

#include "core/error.h"

namespace gda {
namespace {

using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;

const char* kind_name(SweepJob::Kind k) { return k == SweepJob::Kind::source ? "source" : "run"; }

}  // namespace

std::vector<int> checked_job_order(const SweepPlan& plan) {
  const int n = int(plan.jobs.size());
  Graph g(n);
  std::map<std::string, int> writer;  // output folder → job
  for (int k = 0; k < n; ++k) {
    const SweepJob& job = plan.jobs[k];
    if (job.index != k) throw UserError(fmt::format("sweep plan: job at position {} says index {}", k, job.index));
    auto [it, fresh] = writer.emplace(job.dir_name(), k);
    if (!fresh)
      throw UserError(fmt::format("sweep plan: jobs {} ({}) and {} ({}) would both write {}", it->second,
                                  plan.jobs[it->second].label, k, job.label, job.dir_name()));
    for (int need : job.needs) {
      if (need < 0 || need >= n || need == k)
        throw UserError(fmt::format("sweep plan: job {} ({}) needs job {}, which does not exist", k, job.label, need));
      boost::add_edge(need, k, g);
    }
  }
  std::vector<Graph::vertex_descriptor> reversed;
  try {
    boost::topological_sort(g, std::back_inserter(reversed));
  } catch (const boost::not_a_dag&) {
    throw UserError("sweep plan: the jobs' needs form a cycle; delete plan.json and run gda sweep again");
  }
  return std::vector<int>(reversed.rbegin(), reversed.rend());
}

std::string describe_job_graph(const SweepPlan& plan) {
  checked_job_order(plan);
  const int sources = plan.count(SweepJob::Kind::source), runs = plan.count(SweepJob::Kind::run);
  std::map<int, int> users;
  for (const auto& j : plan.jobs)
    for (int need : j.needs) ++users[need];
  std::string out = fmt::format("{} jobs: {} source models, {} runs ({} threads each)\n", plan.jobs.size(), sources,
                                runs, plan.threads_per_job);
  if (sources > 0)
    out += fmt::format("sharing: {} runs start from {} source models ({:.1f} runs per source model)\n", runs,
                       sources, double(runs) / sources);
  for (const auto& j : plan.jobs) {
    out += fmt::format("  [{}] {:<6} {}  {}", j.index, kind_name(j.kind), j.hash, j.label);
    if (!j.needs.empty()) {
      out += "  needs";
      for (int need : j.needs) out += fmt::format(" [{}]", need);
    }
    if (users.count(j.index)) out += fmt::format("  (used by {} runs)", users[j.index]);
    out += "\n";
  }
  return out;
}

}  // namespace gda
