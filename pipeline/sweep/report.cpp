#include "pipeline/sweep/report.h"

#include <filesystem>

#include "core/error.h"
#include "core/files.h"
#include "pipeline/sweep/report_parts.h"

namespace gda {
namespace {

namespace fs = std::filesystem;

std::string unwritten(const std::string& dir, const std::string& why) {
  return "\nThe report's files could not be written in " + dir + " (" + why + "): this printed copy is the only one.\n";
}

}  // namespace

std::string write_report(const std::string& dir, const SweepReport& report) {
  using namespace sweep_report;
  const std::string md = report_markdown(report);
  // A folder that cannot be written (read-only, a full disk) still gets its report, printed.
  try {
    std::string plots = "\n" + plot(dir, report) + "\n";
    if (const std::string analysis_plots = plot_analysis(dir, report); !analysis_plots.empty())
      plots += "\nAnalysis plots: " + analysis_plots + "\n";
    atomic_write(dir + "/report.md", md + plots);
    atomic_write(dir + "/report.csv", groups_csv(report));
    atomic_write(dir + "/stages.csv", stages_csv(report));
    atomic_write(dir + "/report.json", report_json(report));
    if (!measurement_names(report).empty()) atomic_write(dir + "/analysis_stages.csv", analysis_csv(report));
    return md + plots;
  } catch (const UserError& e) {  // from atomic_write
    return md + unwritten(dir, e.what());
  } catch (const fs::filesystem_error& e) {  // from making plots/
    return md + unwritten(dir, e.what());
  }
}

}  // namespace gda
