#pragma once
// The two kinds of failure a user can meet. Everything else is a bug.
#include <stdexcept>
#include <string>

namespace gda {

/// A mistake in what the user gave: a config key, a data file, a plugin, a command-line
/// flag. The message is complete (it names the file, line or key and how to fix it) and
/// is printed as is.
class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A numeric failure while training (a NaN or infinite loss). Carries where it happened
/// so the run can be marked failed with its stage and step.
class NumericError : public std::runtime_error {
 public:
  NumericError(const std::string& what, std::string stage, long step)
      : std::runtime_error(what), stage(std::move(stage)), step(step) {}
  std::string stage;
  long step;
};

}  // namespace gda
