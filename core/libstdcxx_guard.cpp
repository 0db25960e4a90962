#include "core/libstdcxx_guard.h"

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace gda {

namespace {

/// The file of the library that defines the function at `address`, or "".
std::string library_of(const void* address) {
  Dl_info info{};
  if (dladdr(address, &info) == 0 || !info.dli_fname) return "";
  return info.dli_fname;
}

/// The path of the libstdc++.so.6 this process has loaded, or "".
std::string loaded_libstdcxx() {
  void* handle = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_NOLOAD);
  if (!handle) return "";
  link_map* map = nullptr;
  std::string path;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name) path = map->l_name;
  dlclose(handle);
  return path;
}

}  // namespace

void use_system_libstdcxx(char** argv) {
  using RemoveAll = std::uintmax_t (*)(const std::filesystem::path&);
  const RemoveAll bound = &std::filesystem::remove_all;  // resolved the way gda's calls are
  const std::string owner = library_of(reinterpret_cast<const void*>(bound));
  if (owner.empty() || owner.find("libstdc++") != std::string::npos) return;
  if (std::getenv("GDA_LIBSTDCXX_PRELOADED")) return;  // tried once: do not loop
  const std::string libstdcxx = loaded_libstdcxx();
  if (libstdcxx.empty()) return;
  const char* old = std::getenv("LD_PRELOAD");
  const std::string preload = libstdcxx + (old && *old ? std::string(" ") + old : "");
  ::setenv("LD_PRELOAD", preload.c_str(), 1);
  ::setenv("GDA_LIBSTDCXX_PRELOADED", "1", 1);
  ::execv("/proc/self/exe", argv);  // returns only when it failed: carry on as before
}

}  // namespace gda
