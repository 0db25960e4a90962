#include "pipeline/plugins.h"

#include <dlfcn.h>

#include <filesystem>
#include <mutex>
#include <set>

#include "core/error.h"

namespace gda {

void load_plugins(const std::vector<std::string>& paths) {
  static std::mutex mutex;
  static std::set<std::string> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  for (const auto& path : paths) {
    std::error_code ec;
    const std::string key = std::filesystem::weakly_canonical(path, ec).string();
    if (loaded.count(key)) continue;
    if (!std::filesystem::exists(path))
      throw UserError("plugin " + path + ": no such file; build the plugin first, or fix the path in `plugins`");
    void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!handle) throw UserError("plugin " + path + ": cannot load: " + ::dlerror());
    using Entry = void (*)();
    auto entry = reinterpret_cast<Entry>(::dlsym(handle, "gda_register_plugin"));
    if (!entry)
      throw UserError("plugin " + path + ": not a gda plugin (no gda_register_plugin; declare it with GDA_PLUGIN "
                      "from pipeline/plugins.h)");
    loaded.insert(key);  // before the call: a failing plugin is not registered twice on retry
    try {
      entry();
    } catch (const std::exception& e) {
      throw UserError("plugin " + path + ": " + e.what());
    } catch (...) {  // `throw 42`: not ours to type, still the plugin's failure, not gda's
      throw UserError("plugin " + path + ": its gda_register_plugin threw something that is not a std::exception");
    }
  }
}

}  // namespace gda
