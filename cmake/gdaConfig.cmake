# find_package(gda): the gda_core library (gda::gda_core) and its headers, for plugins.
include(CMakeFindDependencyMacro)
find_dependency(Torch)
find_dependency(fmt)
include("${CMAKE_CURRENT_LIST_DIR}/gdaTargets.cmake")
