#pragma once
// The differences between the LibTorch versions gda builds against (Debian's 1.13 and
// upstream 2.x), in one place.
#include <ATen/ops/_foreach_mul.h>
#include <torch/optim/optimizer.h>
#include <torch/version.h>

#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

// 2.1 added multi-tensor operations with a 0-d tensor operand and a multi-tensor copy.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 1)
#define GDA_TORCH_HAS_FOREACH_TENSOR_OPS 1
#include <ATen/ops/_foreach_copy.h>
#endif

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

/// t[i] · s for every i, s a 0-d tensor on t's device: on 2.1+ one multi-tensor operation
/// (s cast to t's dtype first, which t[i] * s does too), else one product per tensor.
inline std::vector<torch::Tensor> multiply_all(const std::vector<torch::Tensor>& t, const torch::Tensor& s) {
#ifdef GDA_TORCH_HAS_FOREACH_TENSOR_OPS
  if (!t.empty()) return at::_foreach_mul(t, s.to(t.front().scalar_type()));
#endif
  std::vector<torch::Tensor> out;
  for (const auto& x : t) out.push_back(x * s);
  return out;
}

/// dst[i] ← src[i] for every i: on 2.1+ one multi-tensor copy, else one copy per tensor.
inline void copy_all(const std::vector<torch::Tensor>& dst, const std::vector<torch::Tensor>& src) {
#ifdef GDA_TORCH_HAS_FOREACH_TENSOR_OPS
  if (!dst.empty()) return at::_foreach_copy_(dst, src);
#endif
  for (std::size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
}

}  // namespace gda
