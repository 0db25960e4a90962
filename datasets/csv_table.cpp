// Tabular data from a CSV file with a header row: the label column and the feature columns
// by name, optionally sorted by a named column so that the order is the shift (the
// Covertype setting of Kumar et al. 2020, domains ordered by distance to water). With
// data.shuffle = false and shift.generator = "ordered" the source, intermediate domains and
// target are consecutive slices of that order. Labels may be numbers or names; names are
// numbered in order of first appearance.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <numeric>
#include <sstream>

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

Dataset load_csv(const Params& p, const LoadContext& ctx) {
  const std::string path = resolve_path(p.text("path"), ctx);
  std::ifstream in(path);
  if (!in) throw UserError(fmt::format("cannot open {} (data.path); check the path", path));
  std::string line;
  if (!std::getline(in, line)) throw UserError(fmt::format("{}: empty file; a header row of column names comes first", path));
  const auto header = split_fields(line);
  auto column = [&](const std::string& name, const std::string& key) {
    auto it = std::find(header.begin(), header.end(), name);
    if (it == header.end())
      throw UserError(fmt::format("{}: no column \"{}\" (data.{}); the columns are: {}", path, name, key,
                                  fmt::join(header, ", ")));
    return std::size_t(it - header.begin());
  };
  const std::size_t label = column(p.text("label"), "label");
  std::vector<std::size_t> features;
  for (const auto& name : names_in(p.text("features"))) features.push_back(column(name, "features"));
  if (features.empty())  // every other column
    for (std::size_t c = 0; c < header.size(); ++c)
      if (c != label) features.push_back(c);
  const bool sorted = !p.text("order_by").empty();
  const std::size_t order_col = sorted ? column(p.text("order_by"), "order_by") : 0;

  std::vector<float> x;
  std::vector<double> order;
  std::vector<std::int64_t> y;
  std::map<std::string, std::int64_t> label_ids;
  bool numeric_labels = true;
  std::vector<std::string> raw_labels;
  for (std::size_t row = 2; std::getline(in, line); ++row) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const auto f = split_fields(line);
    if (f.size() != header.size())
      throw UserError(fmt::format("{}:{}: {} fields, the header has {}", path, row, f.size(), header.size()));
    auto number = [&](std::size_t c) {
      try {
        std::size_t used = 0;
        double v = std::stod(f[c], &used);
        if (used == f[c].size()) return v;
      } catch (const std::exception&) {
      }
      throw UserError(fmt::format("{}:{}: column \"{}\" is \"{}\", not a number", path, row, header[c], f[c]));
    };
    for (auto c : features) x.push_back(float(number(c)));
    if (sorted) order.push_back(number(order_col));
    raw_labels.push_back(f[label]);
    std::size_t used = 0;
    try {
      std::stoll(f[label], &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != f[label].size()) numeric_labels = false;
  }
  const auto n = std::int64_t(raw_labels.size());
  if (n == 0) throw UserError(fmt::format("{}: no data rows after the header", path));
  for (const auto& l : raw_labels) {
    if (numeric_labels) {
      y.push_back(std::stoll(l));
      if (y.back() < 0) throw UserError(fmt::format("{}: label {} is negative; labels are 0, 1, 2, …", path, l));
    } else {
      y.push_back(label_ids.emplace(l, std::int64_t(label_ids.size())).first->second);
    }
  }
  Dataset d;
  d.x = torch::from_blob(x.data(), {n, std::int64_t(features.size())}, torch::kFloat32).clone();
  d.y = torch::tensor(y, torch::kInt64);
  if (sorted) {  // a stable sort keeps file order among equal keys
    std::vector<std::int64_t> idx(std::size_t(n), 0);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](auto a, auto b) { return order[a] < order[b]; });
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
