// Images in folders: one sub-folder per class (class names sorted give labels 0, 1, …),
// read with OpenCV, resized to side × side, grey or colour, pixels in [0, 1]. Optionally
// one folder per given domain, loaded in a configured order (the Portraits setting: the
// domains ordered by year); each domain folder holds the class sub-folders. With
// data.shuffle = false and shift.generator = "ordered" the run follows that order.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <sstream>

#include "datasets/dataset.h"

namespace gda {
namespace {

/// The image at `f`, empty when OpenCV cannot decode it. OpenCV throws past its pixel limit
/// (2^30 pixels: a 40000x40000 PNG) with a message that does not name the file.
cv::Mat read_image(const std::filesystem::path& f, int channels) {
  try {
    return cv::imread(f.string(), channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw UserError(fmt::format("{}: OpenCV cannot read it ({}); images up to 2^30 pixels are read, and gda resizes "
                                "them to data.side anyway: shrink it", f.string(), e.msg));
  }
}

namespace fs = std::filesystem;

std::vector<std::string> subfolders(const fs::path& dir) {
  std::vector<std::string> v;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_directory()) v.push_back(e.path().filename().string());
  std::sort(v.begin(), v.end());
  return v;
}

bool is_image(const fs::path& p) {
  static const std::set<std::string> ext = {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".tif", ".tiff"};
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), ::tolower);
  return ext.count(e) > 0;
}

Dataset load_image_folder(const Params& p, const LoadContext& ctx) {
  const fs::path root = resolve_path(p.text("path"), ctx);
  if (!fs::is_directory(root))
    throw UserError(fmt::format("{} (data.path) is not a folder; it should hold one sub-folder per class", root.string()));
  const int side = int(p.integer("side")), channels = int(p.integer("channels"));
  if (channels == 2) throw UserError("data.channels = 2: use 1 (grey) or 3 (colour)");
  std::vector<fs::path> domain_dirs;
  const std::string domains = p.text("domains");
  if (domains.empty()) {
    domain_dirs.push_back(root);
  } else {
    std::string name;
    std::istringstream in(domains);
    while (std::getline(in, name, ','))
      if (!name.empty()) domain_dirs.push_back(root / name);
  }
  // The classes: those of the first domain folder; every domain must have the same.
  const auto classes = subfolders(domain_dirs.front());
  if (classes.size() < 2)
    throw UserError(fmt::format("{}: {} class sub-folder(s); image_folder needs one sub-folder per class (at least 2)",
                                domain_dirs.front().string(), classes.size()));
  std::vector<float> pixels;
  std::vector<std::int64_t> labels;
  const std::size_t per_image = std::size_t(channels) * side * side;
  for (const auto& dir : domain_dirs) {
    if (!fs::is_directory(dir)) throw UserError(fmt::format("{}: no such domain folder (data.domains)", dir.string()));
    if (subfolders(dir) != classes)
      throw UserError(fmt::format("{}: its class folders differ from those of {}", dir.string(),
                                  domain_dirs.front().string()));
    for (std::size_t k = 0; k < classes.size(); ++k) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(dir / classes[k]))
        if (e.is_regular_file() && is_image(e.path())) files.push_back(e.path());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        cv::Mat img = read_image(f, channels);
        if (img.empty()) throw UserError(fmt::format("{}: not a readable image (OpenCV imread failed)", f.string()));
        cv::resize(img, img, cv::Size(side, side), 0, 0, cv::INTER_AREA);
        if (channels == 3) cv::cvtColor(img, img, cv::COLOR_BGR2RGB);
        img.convertTo(img, channels == 1 ? CV_32F : CV_32FC3, 1.0 / 255.0);
        const std::size_t at = pixels.size();
        pixels.resize(at + per_image);
        // HWC (OpenCV) → CHW
        for (int c = 0; c < channels; ++c)
          for (int i = 0; i < side; ++i)
            for (int j = 0; j < side; ++j)
              pixels[at + (std::size_t(c) * side + i) * side + j] =
                  channels == 1 ? img.at<float>(i, j) : img.at<cv::Vec3f>(i, j)[c];
        labels.push_back(std::int64_t(k));
      }
    }
  }
  const auto n = std::int64_t(labels.size());
  if (n == 0) throw UserError(fmt::format("{}: no images found in the class folders", root.string()));
  Dataset d;
  d.x = torch::from_blob(pixels.data(), {n, channels, side, side}, torch::kFloat32).clone();
  d.y = torch::tensor(labels, torch::kInt64);
  return d;
}

const bool registered = dataset_registry().add(
    {"image_folder",
     "images in one sub-folder per class (OpenCV), optionally one folder per given domain in a configured order",
     {text("path", "", "folder of class sub-folders, or of domain folders (relative to the config file)"),
      integer("side", 28, "images are resized to side x side", 4, 1024),
      integer("channels", 1, "1 = grey, 3 = colour (RGB)", 1, 3),
      text("domains", "",
           "comma-separated domain folders under path, in path order (e.g. \"1905,1935,1965\"); empty = path "
           "holds the class folders")},
     load_image_folder});

}  // namespace
}  // namespace gda
