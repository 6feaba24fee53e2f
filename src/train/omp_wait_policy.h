// LibTorch's OpenMP threads spin after every parallel region by default, while OpenBLAS (libopenblas0-pthread)
// runs GEMMs on its own threads: on a small machine the spinning threads take the cores the GEMM threads need.
// Measured on the 2-core machine of docs/RESULTS.md (`make bench`): model MFU 0.39 with the default (active)
// wait policy, 0.77 with OMP_WAIT_POLICY=PASSIVE; Method 1's co-located client enclave 0.45x -> 0.62x of local.
//
// libgomp reads the variable once, when it is loaded, so a process that finds it unset sets it and re-executes
// itself before doing anything else (child processes, enclaves included, inherit it). An explicit setting by
// the user is kept.
#pragma once

#include <unistd.h>

#include <cstdlib>

namespace sg::train {

inline void ensure_passive_omp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;
  ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  ::execv("/proc/self/exe", argv);   // returns only on failure: then run on with the default policy
}

}  // namespace sg::train
