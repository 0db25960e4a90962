// Tabular data from a CSV file with a header row: the label column and the feature columns
// by name, optionally sorted by a named column so that the order is the shift (the
// Covertype setting of Kumar et al. 2020, domains ordered by distance to water). With
// data.shuffle = false and shift.generator = "ordered" the source, intermediate domains and
// target are consecutive slices of that order. Labels may be numbers or names; names are
// numbered in order of first appearance.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <sstream>

#include "core/params.h"
#include "datasets/dataset.h"

namespace gda {
namespace {

std::vector<std::string> split_fields(const std::string& line) {
  std::vector<std::string> fields;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, ',')) {
    field.erase(0, field.find_first_not_of(" \t\r"));
    field.erase(field.find_last_not_of(" \t\r") + 1);
    fields.push_back(field);
  }
  if (!line.empty() && line.back() == ',') fields.emplace_back();
  return fields;
}

std::vector<std::string> names_in(const std::string& list) {
  std::vector<std::string> names;
  for (auto& n : split_fields(list))
    if (!n.empty()) names.push_back(n);
  return names;
}

/// The header row and the columns the config names in it.
struct Columns {
  std::vector<std::string> header;
  std::size_t label = 0;
  std::vector<std::size_t> features;
  std::optional<std::size_t> order_by;
};

Columns read_columns(std::istream& in, const std::string& path, const Params& p) {
  Columns c;
  std::string line;
  if (!std::getline(in, line)) throw UserError(fmt::format("{}: empty file; a header row of column names comes first", path));
  c.header = split_fields(line);
  auto column = [&](const std::string& name, const std::string& key) {
    auto it = std::find(c.header.begin(), c.header.end(), name);
    if (it == c.header.end())
      throw UserError(fmt::format("{}: no column \"{}\" (data.{}); the columns are: {}", path, name, key,
                                  fmt::join(c.header, ", ")));
    return std::size_t(it - c.header.begin());
  };
  c.label = column(p.text("label"), "label");
  for (const auto& name : names_in(p.text("features"))) c.features.push_back(column(name, "features"));
  if (c.features.empty())  // every other column
    for (std::size_t k = 0; k < c.header.size(); ++k)
      if (k != c.label) c.features.push_back(k);
  if (!p.text("order_by").empty()) c.order_by = column(p.text("order_by"), "order_by");
  return c;
}

/// The data rows as read: features, the sort key, the label's text.
struct Rows {
  std::vector<float> x;
  std::vector<double> order;
  std::vector<std::string> labels;
  std::vector<std::size_t> label_rows;  ///< each label's line in the file, for messages
};

/// The field in column c as a finite number (within float32's range: features are trained on
/// as float32), or a UserError naming the file, row and column.
double number_in(const std::vector<std::string>& f, std::size_t c, const Columns& cols, const std::string& path,
                 std::size_t row) {
  bool number = true;  // else: a number, but not finite or past float32
  try {
    std::size_t used = 0;
    const double v = std::stod(f[c], &used);
    number = used == f[c].size();
    if (number && std::isfinite(v) && std::abs(v) <= std::numeric_limits<float>::max()) return v;
  } catch (const std::out_of_range&) {
  } catch (const std::invalid_argument&) {
    number = false;
  }
  const std::string field = text_for_message(f[c]);
  if (!number)
    throw UserError(fmt::format("{}:{}: column \"{}\" is \"{}\", not a number", path, row, cols.header[c], field));
  throw UserError(fmt::format("{}:{}: column \"{}\" is \"{}\", not a finite number within float32's range (±3.4e38); "
                              "fix or drop that row", path, row, cols.header[c], field));
}

bool is_integer(const std::string& text) {
  std::size_t used = 0;
  try {
    std::stoll(text, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used != 0 && used == text.size();
}

Rows read_rows(std::istream& in, const std::string& path, const Columns& cols) {
  Rows r;
  std::string line;
  for (std::size_t row = 2; std::getline(in, line); ++row) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto f = split_fields(line);
    if (f.size() != cols.header.size())
      throw UserError(fmt::format("{}:{}: {} fields, the header has {}", path, row, f.size(), cols.header.size()));
    for (auto c : cols.features) r.x.push_back(float(number_in(f, c, cols, path, row)));
    if (cols.order_by) r.order.push_back(number_in(f, *cols.order_by, cols, path, row));
    if (f[cols.label].empty())
      throw UserError(fmt::format("{}:{}: the label (column \"{}\") is empty; give every row its class", path, row,
                                  cols.header[cols.label]));
    r.labels.push_back(f[cols.label]);
    r.label_rows.push_back(row);
  }
  if (r.labels.empty()) throw UserError(fmt::format("{}: no data rows after the header", path));
  return r;
}

/// The most classes a label column may number (the model's head has a row per class).
constexpr std::int64_t kMaxClasses = 100000;

/// Integer labels as they are; names numbered in order of first appearance. Refused: a mix of
/// integers and other labels (a stray "1.0" beside 0/1/2 would be a class of its own), labels
/// outside 0 … kMaxClasses − 1, and a column with a single class.
std::vector<std::int64_t> label_ids(const Rows& r, const std::string& path) {
  std::optional<std::size_t> an_integer, a_name;
  for (std::size_t i = 0; i < r.labels.size() && !(an_integer && a_name); ++i)
    if (auto& first = is_integer(r.labels[i]) ? an_integer : a_name; !first) first = i;
  if (an_integer && a_name)
    throw UserError(fmt::format("{}:{}: the label \"{}\" is not an integer, but the label of line {} is (\"{}\"); write "
                                "every label as an integer 0, 1, … or every label as a name", path,
                                r.label_rows[*a_name], text_for_message(r.labels[*a_name]),
                                r.label_rows[*an_integer], r.labels[*an_integer]));
  std::vector<std::int64_t> y;
  std::map<std::string, std::int64_t> ids;
  for (std::size_t i = 0; i < r.labels.size(); ++i) {
    const std::string& l = r.labels[i];
    if (an_integer) {
      y.push_back(std::stoll(l));
      if (y.back() < 0 || y.back() >= kMaxClasses)
        throw UserError(fmt::format("{}:{}: the label {} is outside 0 … {}; number the classes 0, 1, 2, …", path,
                                    r.label_rows[i], l, kMaxClasses - 1));
    } else {
      y.push_back(ids.emplace(l, std::int64_t(ids.size())).first->second);
      if (std::int64_t(ids.size()) > kMaxClasses)
        throw UserError(fmt::format("{}: more than {} different labels; is data.label the right column?", path,
                                    kMaxClasses));
    }
  }
  if (std::all_of(y.begin(), y.end(), [&](std::int64_t v) { return v == y.front(); }))
    throw UserError(fmt::format("{}: every row has the label \"{}\"; adaptation needs at least 2 classes (is data.label "
                                "the right column?)", path, text_for_message(r.labels.front())));
  return y;
}

Dataset load_csv(const Params& p, const LoadContext& ctx) {
  const std::string path = resolve_path(p.text("path"), ctx);
  std::ifstream in(path);
  // Only a regular file has an end: a device or a pipe (/dev/zero) would be read forever.
  const bool regular = std::filesystem::is_regular_file(path);
  if (!in || !regular)
    throw UserError(fmt::format("cannot open {} (data.path){}; check the path", path,
                                std::filesystem::is_directory(path) ? ": it is a directory"
                                : in && !regular                    ? ": it is not a regular file"
                                                                    : ""));
  const Columns cols = read_columns(in, path, p);
  Rows rows = read_rows(in, path, cols);
  const auto n = std::int64_t(rows.labels.size());
  Dataset d;
  d.x = torch::from_blob(rows.x.data(), {n, std::int64_t(cols.features.size())}, torch::kFloat32).clone();
  d.y = torch::tensor(label_ids(rows, path), torch::kInt64);
  if (cols.order_by) {  // a stable sort keeps file order among equal keys
    std::vector<std::int64_t> idx(std::size_t(n), 0);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) { return rows.order[a] < rows.order[b]; });
    d = d.select(torch::tensor(idx, torch::kInt64));
  }
  if (p.flag("standardize")) {  // zero mean, unit variance per feature, as tabular GDA code does
    const auto mean = d.x.mean(0, true), std = d.x.std(0, true, true).clamp_min(1e-12);
    d.x = (d.x - mean) / std;
  }
  return d;
}

const bool registered = dataset_registry().add(
    {"csv", "a CSV table with a header row: a label column and feature columns by name, optionally sorted by a column",
     {text("path", "", "CSV file (relative to the config file)"),
      text("label", "label", "name of the label column (integers 0, 1, … or names)"),
      text("features", "", "comma-separated feature column names; empty = every column but the label"),
      text("order_by", "", "sort the rows by this numeric column (the shift order); empty = file order"),
      flag("standardize", true, "scale every feature to zero mean and unit variance")},
     load_csv});

}  // namespace
}  // namespace gda
