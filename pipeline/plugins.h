#pragma once
// Out-of-tree components. A plugin is a shared library built against the installed gda
// (find_package(gda)) that exports one entry point, declared with GDA_PLUGIN, in which it
// registers its generators (or datasets, models, optimizers) with the usual registries.
// A config loads plugins with a top-level `plugins = ["path/to/libmyshift.so"]`.
#include <string>
#include <vector>

/// The entry point of a plugin: GDA_PLUGIN { generator_registry().add({...}); }
#define GDA_PLUGIN extern "C" __attribute__((visibility("default"))) void gda_register_plugin()

namespace gda {

/// Loads each library once per process (later loads of the same file are no-ops) and
/// calls its gda_register_plugin. Throws UserError naming the library when it cannot be
/// loaded, has no entry point, registers a name that is already taken or throws anything.
void load_plugins(const std::vector<std::string>& paths);

}  // namespace gda
