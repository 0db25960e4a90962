#include "core/threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <malloc.h>
#include <omp.h>

namespace gda {

void use_intra_op_threads(int n) {
  // Let LibTorch run its once-per-thread lazy initialisation first (it would otherwise
  // overwrite our setting at the thread's first parallel op), then set this thread's count.
  at::parallel_for(0, 2, 1, [](std::int64_t, std::int64_t) {});
  omp_set_num_threads(n);
}

void tune_runtime_for_training() {
  // glibc serves blocks over 128 KiB with fresh mmap()s and unmaps them on free, so every
  // 12 MiB activation of a training step page-faults its memory in again: ~10x the page
  // faults and ~8 % of a step. Keep freed memory in the heap for reuse instead.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  // OpenBLAS (pthreads build) runs its own thread pool next to LibTorch's OpenMP threads;
  // on few cores they preempt each other (sched_yield storms). One BLAS thread per caller
  // leaves the cores to OpenMP: 1.3x faster training steps on 2 cores (docs/PERFORMANCE.md).
  // Looked up at run time: absent when another BLAS is the system's libblas.
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(1);
}

void set_default_intra_op_threads(int n) {
  tune_runtime_for_training();
  at::set_num_threads(n);
  use_intra_op_threads(n);
}

}  // namespace gda
