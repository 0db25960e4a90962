# The LibTorch builds gda compiles against, and what each needs (README: GPU):
# - Debian's libtorch-dev 1.13 (CPU): nothing.
# - an upstream LibTorch 2.x with CUDA (a pip torch wheel, or an unpacked archive):
#   GDA_WITH_CUDA for core/device.cpp (GPU names and CUDA versions); Debian's fmt headers
#   ahead of the newer fmt that LibTorch ships in its include folder. (The pip libtorch.so
#   also exports its own std::filesystem, which gda's calls bind to and crash in; that is
#   fixed at run time by preloading the system libstdc++: README, GPU.)
# Version differences in the C++ API itself are in core/torch_compat.h.

if(TORCH_CUDA_LIBRARIES)
  set(GDA_WITH_CUDA ON)
  message(STATUS "gda: LibTorch ${Torch_VERSION} with CUDA")
  set_source_files_properties(core/device.cpp PROPERTIES COMPILE_DEFINITIONS GDA_WITH_CUDA)
  if(CUDAToolkit_INCLUDE_DIRS)
    set_source_files_properties(core/device.cpp PROPERTIES INCLUDE_DIRECTORIES "${CUDAToolkit_INCLUDE_DIRS}")
  endif()
else()
  set(GDA_WITH_CUDA OFF)
  message(STATUS "gda: LibTorch ${Torch_VERSION}, CPU only")
endif()

# LibTorch 2.x ships fmt headers (a newer fmt than Debian's libfmt, which gda links) in
# its include folder, which the compiler would search first. A folder holding only the
# linked fmt's headers, given with -I (searched before every -isystem), puts them first.
get_target_property(GDA_FMT_INCLUDE fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
if(GDA_FMT_INCLUDE)
  list(GET GDA_FMT_INCLUDE 0 GDA_FMT_INCLUDE)
  foreach(dir ${TORCH_INCLUDE_DIRS})
    # Debian's LibTorch shares /usr/include with Debian's fmt: nothing to shadow there.
    if(EXISTS "${dir}/fmt/format.h" AND NOT dir STREQUAL GDA_FMT_INCLUDE)
      file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/fmt-include")
      file(CREATE_LINK "${GDA_FMT_INCLUDE}/fmt" "${CMAKE_BINARY_DIR}/fmt-include/fmt" SYMBOLIC)
      target_include_directories(gda_core BEFORE PUBLIC $<BUILD_INTERFACE:${CMAKE_BINARY_DIR}/fmt-include>)
      message(STATUS "gda: LibTorch's own fmt headers in ${dir} are shadowed by ${GDA_FMT_INCLUDE}/fmt")
      break()
    endif()
  endforeach()
endif()
