#include "pipeline/source_model.h"

#include <torch/serialize.h>

#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "core/files.h"

namespace gda {

namespace fs = std::filesystem;

bool has_source_model(const std::string& dir) {
  return fs::exists(dir + "/model.pt") && fs::exists(dir + "/stage0.json");
}

void save_source_model(const std::string& dir, const Model& model, const StageRecord& stage0) {
  fs::create_directories(dir);
  // Saved from a CPU copy, so that a file is the same whichever device trained the model and
  // loads on any (a sweep shares it between machines).
  auto on_cpu = model.clone_model();
  on_cpu->to(torch::kCPU);
  torch::serialize::OutputArchive archive;
  on_cpu->save(archive);
  // Serialised in memory, then written as any result file is: LibTorch's file writer throws
  // from its destructor when the disk is full, which ends the process (std::terminate).
  std::ostringstream bytes;
  archive.save_to(bytes);
  // model.pt first, stage0.json last: has_source_model() sees both only once both are whole.
  try {
    atomic_write(dir + "/model.pt", bytes.str());
    atomic_write(dir + "/stage0.json", stage_json_line(stage0) + "\n");
  } catch (const UserError&) {
    std::error_code ec;
    fs::remove(dir + "/model.pt", ec);  // no model without its record
    throw;
  }
}

std::string unreadable_source_model(const std::string& dir) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(dir + "/model.pt");
    stage_from_json_line(read_text(dir + "/stage0.json"));
    return "";
  } catch (const std::exception& e) {
    const std::string what = e.what();
    return what.substr(0, what.find('\n'));  // LibTorch appends a C++ stack trace
  }
}

StageRecord load_source_model(const std::string& dir, Model& model) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(dir + "/model.pt", model.device());
    model.load(archive);
    StageRecord r = stage_from_json_line(read_text(dir + "/stage0.json"));
    r.accuracies.clear();  // re-measured on this run's domains
    return r;
  } catch (const std::exception& e) {
    throw UserError("cannot load the source model in " + dir + " (" + e.what() +
                    "): delete that folder to train it again");
  }
}

}  // namespace gda
