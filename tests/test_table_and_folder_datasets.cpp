// The csv and image_folder datasets on files the tests write (and one malformed file each),
// and the ordered generator that keeps their order as the shift.
#include <fmt/format.h>

#include <filesystem>
#include <opencv2/imgcodecs.hpp>

#include "datasets/dataset.h"
#include "pipeline/config.h"
#include "core/error.h"
#include "core/files.h"
#include "pipeline/run.h"
#include "tests/helpers.h"

namespace gda::test {
namespace {

namespace fs = std::filesystem;

Dataset load(const std::string& dir, const std::string& data_section) {
  const Config c = parse_config("[data]\n" + data_section, dir + "/c.toml");
  return dataset_registry().get(c.section("data").text("name")).make(c.section("data"), {dir, dir});
}

std::string error_of(const std::string& dir, const std::string& data_section) {
  return user_error_of([&] { load(dir, data_section); });
}

TEST(CsvDataset, FeaturesByNameSortedByAColumn) {
  auto dir = temp_dir("csv");
  atomic_write(dir + "/t.csv", "dist, a, b, kind\n30, 1, 2, pine\n10, 3, 4, oak\n20, 5, 6, pine\n\n");
  const Dataset d = load(dir, "name = \"csv\"\npath = \"t.csv\"\nlabel = \"kind\"\nfeatures = \"b,a\"\n"
                              "order_by = \"dist\"\nstandardize = false\n");
  // Sorted by dist: rows 10, 20, 30; features in the named order (b, a); names numbered in
  // order of first appearance in the file: pine 0, oak 1.
  EXPECT_TRUE(torch::equal(d.x, torch::tensor({{4.0f, 3.0f}, {6.0f, 5.0f}, {2.0f, 1.0f}})));
  EXPECT_TRUE(torch::equal(d.y, torch::tensor({1, 0, 0}, torch::kInt64)));
  // Every other column by default, standardized: zero mean, unit variance per feature.
  const Dataset s = load(dir, "name = \"csv\"\npath = \"t.csv\"\nlabel = \"kind\"\n");
  EXPECT_EQ(s.x.size(1), 3);
  EXPECT_NEAR(s.x.mean(0).abs().max().item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(s.x.std(0)[0].item<double>(), 1.0, 1e-6);
}

TEST(CsvDataset, MalformedFilesNameTheRowAndColumn) {
  auto dir = temp_dir("csv-bad");
  atomic_write(dir + "/short.csv", "a,b,label\n1,2,0\n3,4\n");
  EXPECT_NE(error_of(dir, "name = \"csv\"\npath = \"short.csv\"\n").find("short.csv:3: 2 fields, the header has 3"),
            std::string::npos);
  atomic_write(dir + "/word.csv", "a,b,label\n1,x,0\n");
  EXPECT_NE(error_of(dir, "name = \"csv\"\npath = \"word.csv\"\n").find("word.csv:2: column \"b\" is \"x\", not a number"),
            std::string::npos);
  EXPECT_NE(error_of(dir, "name = \"csv\"\npath = \"word.csv\"\nlabel = \"y\"\n").find("no column \"y\" (data.label)"),
            std::string::npos);
  EXPECT_NE(error_of(dir, "name = \"csv\"\npath = \"none.csv\"\n").find("cannot open"), std::string::npos);
  fs::create_directories(dir + "/folder.csv");
  EXPECT_NE(error_of(dir, "name = \"csv\"\npath = \"folder.csv\"\n").find("it is a directory"), std::string::npos);
  // A device never ends: refused before a line of it is read.
  EXPECT_NE(error_of(dir, "name = \"csv\"\npath = \"/dev/zero\"\n").find("/dev/zero (data.path): it is not a regular file"),
            std::string::npos);
}

void write_image(const fs::path& path, int value, bool colour = false) {
  fs::create_directories(path.parent_path());
  cv::Mat m(8, 8, colour ? CV_8UC3 : CV_8UC1, colour ? cv::Scalar(value, 0, 255 - value) : cv::Scalar(value));
  ASSERT_TRUE(cv::imwrite(path.string(), m));
}

TEST(ImageFolderDataset, ClassFoldersAndDomainsInTheirOrder) {
  auto dir = temp_dir("imgs");
  write_image(fs::path(dir) / "flat/cat/1.png", 51);
  write_image(fs::path(dir) / "flat/cat/2.png", 102);
  write_image(fs::path(dir) / "flat/dog/1.png", 255);
  const Dataset d = load(dir, "name = \"image_folder\"\npath = \"flat\"\nside = 4\n");
  ASSERT_EQ(d.x.sizes(), (std::vector<std::int64_t>{3, 1, 4, 4}));
  EXPECT_TRUE(torch::equal(d.y, torch::tensor({0, 0, 1}, torch::kInt64)));  // cat, cat, dog
  EXPECT_NEAR(d.x[0].mean().item<double>(), 51 / 255.0, 1e-6);  // a constant image stays constant
  EXPECT_NEAR(d.x[2].max().item<double>(), 1.0, 1e-6);

  // Domains in the configured order, not the alphabetical one; colour as RGB.
  write_image(fs::path(dir) / "years/1990/a/1.png", 10, true);
  write_image(fs::path(dir) / "years/1990/b/1.png", 20, true);
  write_image(fs::path(dir) / "years/1950/a/1.png", 200, true);
  write_image(fs::path(dir) / "years/1950/b/1.png", 210, true);
  const Dataset y = load(dir, "name = \"image_folder\"\npath = \"years\"\nside = 8\nchannels = 3\n"
                              "domains = \"1990,1950\"\n");
  ASSERT_EQ(y.x.sizes(), (std::vector<std::int64_t>{4, 3, 8, 8}));
  // OpenCV's BGR (value, 0, 255 − value) is RGB (255 − value, 0, value).
  EXPECT_NEAR(y.x[0][2].mean().item<double>(), 10 / 255.0, 1e-6);
  EXPECT_NEAR(y.x[0][0].mean().item<double>(), 245 / 255.0, 1e-6);
  EXPECT_NEAR(y.x[2][2].mean().item<double>(), 200 / 255.0, 1e-6);  // 1950 after 1990
}

TEST(ImageFolderDataset, MalformedInputsSayWhat) {
  auto dir = temp_dir("imgs-bad");
  write_image(fs::path(dir) / "d/a/1.png", 1);
  write_image(fs::path(dir) / "d/b/1.png", 2);
  atomic_write(dir + "/d/b/broken.png", "not a png");
  EXPECT_NE(error_of(dir, "name = \"image_folder\"\npath = \"d\"\n").find("broken.png: not a readable image"),
            std::string::npos);
  EXPECT_NE(error_of(dir, "name = \"image_folder\"\npath = \"nowhere\"\n").find("is not a folder"), std::string::npos);
  fs::remove(dir + "/d/b/broken.png");
  EXPECT_NE(error_of(dir, "name = \"image_folder\"\npath = \".\"\ndomains = \"d,e\"\n").find("no such domain folder"),
            std::string::npos);
}

TEST(OrderedShift, ASortedCsvRunsInItsOrder) {
  auto dir = temp_dir("ordered");
  // 600 rows: the label is the sign of x1 rotated by an angle that grows with "time".
  std::string csv = "time,x1,x2,label\n";
  for (int i = 0; i < 600; ++i) {
    const double a = 1.2 * i / 600.0, u = std::cos(i * 2.1), v = std::sin(i * 3.7);
    const double x1 = u * std::cos(a) - v * std::sin(a), x2 = u * std::sin(a) + v * std::cos(a);
    csv += fmt::format("{},{:.5f},{:.5f},{}\n", 599 - i, x1, x2, u > 0 ? 1 : 0);  // file order reversed
  }
  atomic_write(dir + "/t.csv", csv);
  const std::string config = fmt::format(R"(threads = 1
[data]
name = "csv"
path = "{}/t.csv"
order_by = "time"
shuffle = false
source_size = 150
intermediate_size = 300
target_size = 150
[shift]
generator = "ordered"
T = 3
[model]
name = "mlp"
[source]
epochs = 20
batch_size = 32
[adaptation]
epochs = 5
batch_size = 32
[evaluation]
domains = "all"
)", dir);
  const auto s = run_experiment(parse_config(config, "ordered.toml"), {dir + "/run", nullptr});
  ASSERT_EQ(s.status, RunStatus::ok);
  // The domains are consecutive in time: 150 source rows, 3 × 100, 150 target rows.
  const std::string table = read_text(dir + "/run/stages.jsonl");
  EXPECT_NE(table.find("\"domain\":\"inter3\",\"domain_size\":100"), std::string::npos) << table;
  EXPECT_GT(*s.final_target_accuracy, 0.5);
}

}  // namespace
}  // namespace gda::test
