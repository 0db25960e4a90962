// A broken plugin for tests: it registers a generator under a built-in name.
#include "pipeline/plugins.h"
#include "stages/shift/generator.h"

GDA_PLUGIN {
  gda::generator_registry().add({"rotation", "a second rotation", {}, [](const gda::Params&) {
                                   return std::unique_ptr<gda::ShiftGenerator>();
                                 }});
}
