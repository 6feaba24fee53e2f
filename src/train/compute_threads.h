// One knob for a process's compute threads: LibTorch's intra-op pool and OpenBLAS's own GEMM pool
// (libopenblas0-pthread keeps its threads apart from LibTorch's and sizes them by the core count at load).
// An enclave told to use 1 thread must not keep a second BLAS thread that spins with sched_yield after every
// GEMM: on 2 cores it takes the time of the host's GEMM threads. Measured with `perf` on the federated bench
// (docs/RESULTS.md): the client enclave's idle BLAS worker was ~7% of all samples.
#pragma once

namespace sg::train {

// threads > 0: exactly that many; 0: one per core.
void set_compute_threads(int threads);

}  // namespace sg::train
