// One knob for a process's compute threads: LibTorch's intra-op pool, which the wheel's MKL GEMMs share (OpenMP).
// An enclave told to use 1 thread must not keep a second compute thread busy: on 2 cores it takes the time of the
// host's GEMM threads.
#pragma once

namespace sg::runtime {

// threads > 0: exactly that many; 0: one per core.
void set_compute_threads(int threads);

}  // namespace sg::runtime
