#include "pipeline/threads.h"

#include <ATen/Parallel.h>
#include <omp.h>

namespace gda {

void use_intra_op_threads(int n) {
  // Let LibTorch run its once-per-thread lazy initialisation first (it would otherwise
  // overwrite our setting at the thread's first parallel op), then set this thread's count.
  at::parallel_for(0, 2, 1, [](std::int64_t, std::int64_t) {});
  omp_set_num_threads(n);
}

void set_default_intra_op_threads(int n) {
  at::set_num_threads(n);
  use_intra_op_threads(n);
}

}  // namespace gda
