#pragma once
// The differences between the LibTorch versions gda builds against (Debian's 1.13 and
// upstream 2.x), in one place.
#include <torch/optim/optimizer.h>

#include <sstream>
#include <string>
#include <type_traits>

namespace gda {

/// The key of a parameter in torch::optim's per-parameter state map: 1.13 keys it by the
/// TensorImpl's address printed as a string, 2.x by the address itself.
template <class StateMap>
typename StateMap::key_type optimizer_state_key(const StateMap&, const torch::Tensor& param) {
  if constexpr (std::is_same_v<typename StateMap::key_type, std::string>) {
    std::ostringstream key;
    key << param.unsafeGetTensorImpl();
    return key.str();
  } else {
    return param.unsafeGetTensorImpl();
  }
}

}  // namespace gda
