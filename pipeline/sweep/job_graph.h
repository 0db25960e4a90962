#pragma once
// The sweep's jobs as a Boost.Graph DAG (an edge j → k: job k needs job j's output),
// checked before anything runs.
#include <string>
#include <vector>

#include "pipeline/sweep/plan.h"

namespace gda {

/// Checks that every job a job needs exists and is another job, that no two jobs write
/// the same output, and that the needs form no cycle; throws UserError naming the
/// offending jobs. Returns the job indices in an order where each comes after its needs.
std::vector<int> checked_job_order(const SweepPlan& plan);

/// What --dry-run prints: job counts per kind, what is shared, and each job with its needs.
std::string describe_job_graph(const SweepPlan& plan);

}  // namespace gda
