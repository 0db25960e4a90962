#pragma once
// Thread budgets. LibTorch here parallelises with OpenMP, whose thread count is a
// per-thread setting; at::set_num_threads also changes a process-wide default that other
// threads pick up lazily. So each pipeline thread pins its own count with use_intra_op_threads.
namespace gda {

/// Sets the intra-op (OpenMP) thread count of the calling thread only.
void use_intra_op_threads(int n);

/// Keeps freed memory in the heap and gives OpenBLAS one thread per caller (see .cpp).
void tune_runtime_for_training();

/// Sets LibTorch's process-wide default and the calling thread's count, after
/// tune_runtime_for_training().
void set_default_intra_op_threads(int n);

}  // namespace gda
