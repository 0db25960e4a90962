#!/usr/bin/env bash
# The test suite under AddressSanitizer and UndefinedBehaviorSanitizer, in a build folder of
# its own (default build-sanitizers/), so the Release build is untouched.
#
#   bash tools/check-sanitizers.sh [BUILD_DIR] [CTEST ARGS...]
#   e.g. bash tools/check-sanitizers.sh build-sanitizers -R 'Config|Sweep'
#
# Needs what README command 1 installs (tools/setup.sh) and the compiler's sanitizer
# runtimes (gcc: libasan8, libubsan1, installed with g++ on Debian). A full build takes
# about 40 minutes on 2 cores, the suite 3-4 times its usual time. Exits non-zero on any
# sanitizer report (every report aborts the test that made it) or failed test.
#
# What is switched off, and why:
# - detect_leaks=0: LibTorch, TBB and OpenCV keep process-lifetime allocations (thread
#   pools, registries, the CPU allocator's caches) that LeakSanitizer reports at exit; the
#   reports are theirs and drown gda's. ASan still catches every use-after-free, overflow
#   and double free, in gda's code and in what it hands the libraries.
# - tools/ubsan.supp: one vptr report inside oneTBB's flow-graph header, with its reason.
# - The Debian LibTorch, TBB and OpenCV are not instrumented: UBSan sees only gda's code,
#   and ASan sees their memory only where gda's code touches it.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build-sanitizers}
shift || true
# Every check halts, except vptr, which must stay recoverable to be suppressible (tools/ubsan.supp).
FLAGS="${CXXFLAGS:-} -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined -fsanitize-recover=vptr"
# Configured and built without any preload (its test programs carry the ASan runtime).
PRELOAD=${LD_PRELOAD:-}
unset LD_PRELOAD
cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DCMAKE_CXX_FLAGS="$FLAGS" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" -DGDA_BUILD_BENCH=OFF >/dev/null
cmake --build "$B" -j"$(nproc)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1
# With a pip LibTorch, whose programs run with the system libstdc++ preloaded (README: GPU),
# ASan's runtime must come first; and CUDA maps memory where ASan's shadow gap would be.
if [ -n "$PRELOAD" ]; then export LD_PRELOAD="$(${CXX:-g++} -print-file-name=libasan.so):$PRELOAD"; fi
if command -v nvidia-smi >/dev/null; then ASAN_OPTIONS=$ASAN_OPTIONS:protect_shadow_gap=0; fi
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:suppressions=$PWD/tools/ubsan.supp
ctest --test-dir "$B" --output-on-failure -j"$(nproc)" --timeout 3000 "$@"
echo "check-sanitizers: the suite passed under ASan + UBSan ($B)"
