// IDX files (the MNIST file format), plain or gzip-compressed: an images file
// (magic 0x00000803, dims N, H, W, unsigned bytes) and a labels file (0x00000801, N).
// `fashion_mnist` is the same loader with the paths of Debian's dataset-fashion-mnist.
#include <fmt/format.h>
#include <zlib.h>

#include <memory>

#include "datasets/dataset.h"

namespace gda {
namespace {

/// Reads a whole file through zlib, which passes plain files through unchanged.
std::vector<unsigned char> read_maybe_gz(const std::string& path, const std::string& key) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f)
    throw UserError(fmt::format("cannot open {} (data.{}); check the path", path, key));
  std::unique_ptr<gzFile_s, int (*)(gzFile)> guard(f, gzclose);
  std::vector<unsigned char> bytes;
  unsigned char buf[1 << 16];
  for (;;) {
    int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int err;
      const char* msg = gzerror(f, &err);
      throw UserError(fmt::format("{} (data.{}): read error: {} (corrupt or truncated .gz?)",
                                  path, key, msg));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), buf, buf + n);
  }
  return bytes;
}

std::uint32_t big_endian(const std::vector<unsigned char>& b, std::size_t at) {
  return (std::uint32_t(b[at]) << 24) | (std::uint32_t(b[at + 1]) << 16) |
         (std::uint32_t(b[at + 2]) << 8) | std::uint32_t(b[at + 3]);
}

Dataset load_idx_files(const std::string& images_path, const std::string& labels_path,
                       std::int64_t limit) {
  auto img = read_maybe_gz(images_path, "images");
  auto lab = read_maybe_gz(labels_path, "labels");
  if (img.size() < 16 || big_endian(img, 0) != 0x803)
    throw UserError(fmt::format("{} (data.images) is not an IDX image file (magic 0x00000803)",
                                images_path));
  if (lab.size() < 8 || big_endian(lab, 0) != 0x801)
    throw UserError(fmt::format("{} (data.labels) is not an IDX label file (magic 0x00000801)",
                                labels_path));
  std::int64_t n = big_endian(img, 4), h = big_endian(img, 8), w = big_endian(img, 12);
  std::int64_t n_labels = big_endian(lab, 4);
  if (std::int64_t(img.size()) != 16 + n * h * w)
    throw UserError(fmt::format("{} (data.images) is truncated or corrupt: header says {}x{}x{} "
                                "= {} bytes of pixels, file has {}",
                                images_path, n, h, w, n * h * w, img.size() - 16));
  if (std::int64_t(lab.size()) != 8 + n_labels)
    throw UserError(fmt::format("{} (data.labels) is truncated or corrupt: header says {} labels, "
                                "file has {}", labels_path, n_labels, lab.size() - 8));
  if (n_labels != n)
    throw UserError(fmt::format("{} has {} images but {} has {} labels", images_path, n,
                                labels_path, n_labels));
  if (limit > 0 && limit < n) n = limit;
  Dataset d;
  d.x = torch::from_blob(img.data() + 16, {n, 1, h, w}, torch::kUInt8)
            .to(torch::kFloat32)
            .div_(255.0);
  d.y = torch::from_blob(lab.data() + 8, {n}, torch::kUInt8).to(torch::kInt64);
  return d;
}

Dataset load_idx(const Params& p, const LoadContext& ctx) {
  if (p.text("images").empty() || p.text("labels").empty())
    throw UserError("dataset \"idx\" needs data.images and data.labels (paths to IDX files)");
  return load_idx_files(resolve_path(p.text("images"), ctx), resolve_path(p.text("labels"), ctx),
                        p.integer("limit"));
}

const std::string kFashion = "/usr/share/datasets/fashion-mnist/";

Dataset load_fashion(const Params& p, const LoadContext& ctx) {
  try {
    return load_idx(p, ctx);
  } catch (const UserError& e) {
    throw UserError(std::string(e.what()) +
                    " (Fashion-MNIST comes from Debian's package dataset-fashion-mnist: "
                    "apt-get install dataset-fashion-mnist)");
  }
}

const ParamSpecs idx_params(const std::string& images, const std::string& labels) {
  return {text("images", images, "IDX image file (plain or .gz)"),
          text("labels", labels, "IDX label file (plain or .gz)"),
          integer("limit", 0, "use only the first N examples; 0 = all", 0)};
}

const bool registered_idx = dataset_registry().add(
    {"idx", "IDX image + label files (plain or .gz), e.g. MNIST or Fashion-MNIST",
     idx_params("", ""), load_idx});

const bool registered_fashion = dataset_registry().add(
    {"fashion_mnist",
     "Fashion-MNIST test split (10,000 images) from Debian's dataset-fashion-mnist",
     idx_params(kFashion + "t10k-images-idx3-ubyte.gz", kFashion + "t10k-labels-idx1-ubyte.gz"),
     load_fashion});

}  // namespace
}  // namespace gda
