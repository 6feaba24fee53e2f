// One knob for a process's compute threads: LibTorch's intra-op pool and OpenBLAS's own GEMM pool
// (libopenblas0-pthread keeps its threads apart from LibTorch's and sizes them by the core count at load).
// An enclave told to use 1 thread must not keep a second BLAS thread that spins with sched_yield after every
// GEMM: on 2 cores it takes the time of the host's GEMM threads. A `perf record -a` over the federated bench
// (2026-11-29) put the client enclave's spinning BLAS worker at ~7% of all samples; after this, under 1%.
#pragma once

namespace sg::train {

// threads > 0: exactly that many; 0: one per core.
void set_compute_threads(int threads);

}  // namespace sg::train
