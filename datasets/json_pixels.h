#pragma once
// The MNIST package's digit files are one object, {"data": [numbers in [0, 1]]}. Read in
// that shape directly, a file of 784,000 numbers takes milliseconds instead of the JSON
// library's second; datasets/mnist_json.cpp falls back to the library for anything else.
#include <string>
#include <vector>

namespace gda {

/// Appends the numbers of `text` to `pixels` and returns true when `text` is exactly
/// {"data": [numbers]} (JSON's whitespace anywhere between tokens, RFC 8259 numbers, each in
/// [0, 1]). Each number is read as the library reads it: an integer as an integer (so "-0"
/// is +0), anything else as a correctly rounded double, then rounded to float. Returns false
/// and leaves `pixels` as it was for anything else.
bool read_pixels_directly(const std::string& text, std::vector<float>& pixels);

}  // namespace gda
