#pragma once
// The pip torch wheel's libtorch.so exports its own copy of parts of libstdc++, among them
// std::filesystem (pytorch/pytorch#133437). Loaded before the system's libstdc++.so.6, it
// captures gda's std::filesystem calls, which then crash. gda's programs call this first
// thing in main(): when the calls are bound to a library other than libstdc++, the program
// runs itself again with the system's libstdc++ preloaded, which makes its copy win.
namespace gda {

/// Re-executes the program with LD_PRELOAD naming the system's libstdc++ when its
/// std::filesystem is not the one in use; returns when nothing needs doing (always with
/// Debian's LibTorch) or when the re-execution is not possible.
void use_system_libstdcxx(char** argv);

}  // namespace gda
