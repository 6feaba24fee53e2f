// Process-wide settings every `sliceguard` process (and the bench) applies first thing in main.
//
// ensure_passive_thread_waits: idle compute threads block instead of spinning. LibTorch's OpenMP threads spin
// after every parallel region by default, and OpenBLAS (libopenblas0-pthread) workers spin with sched_yield for
// 2^28 cycles (~0.1 s) after every GEMM. On a small machine the spinning threads take the cores that the GEMM
// threads need, and the cores a co-located enclave needs while its host waits for a call. Measured on the 2-core
// machine of docs/RESULTS.md (`make bench`):
//  - OMP_WAIT_POLICY=PASSIVE: model MFU 0.39 -> 0.77; Method 1's co-located client enclave 0.45x -> 0.62x of local.
//  - OPENBLAS_THREAD_TIMEOUT=20 (spin at most 2^20 cycles, ~0.4 ms, then sleep): the federated bench's host time
//    in enclave calls 1.5 -> 1.25 s (bundled model) and 1.85 -> 1.45 s (d512); local LoRA itself ~10% faster
//    (perf: the host's share of __schedule/sched_yield samples 14% -> under 3%).
// Both libraries read their variable once, when they are loaded, so a process that finds either unset sets it
// and re-executes itself before doing anything else (child processes, enclaves included, inherit them; the
// Gramine manifest sets both). An explicit setting by the user is kept.
//
// keep_freed_memory: every training step, enclave request and host<->enclave call allocates tensor- and
// frame-sized buffers. glibc serves those above 128 KiB by mmap, or trims the heap after they are freed, so each
// step faulted fresh zeroed pages in again (a perf profile of the federated bench's client enclave, d512 model:
// ~30% of its time in the kernel's page faults; `make bench`'s otp rows: a 1 MB batch seal+open at 0.54 GB/s
// without, 1.15 GB/s with). Buffers up to 32 MiB (glibc's ceiling for this setting) come from the heap, and up to
// 128 MiB of freed heap is kept for the next step. In a single-threaded enclave that does not raise the peak,
// which is one request's working set either way; a multi-threaded host may keep that much per malloc arena.
#pragma once

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

namespace sg::train {

inline void ensure_passive_thread_waits(char** argv) {
  bool changed = false;
  const std::pair<const char*, const char*> settings[] = {{"OMP_WAIT_POLICY", "PASSIVE"},
                                                          {"OPENBLAS_THREAD_TIMEOUT", "20"}};
  for (const auto& [name, value] : settings) {
    if (std::getenv(name) != nullptr) continue;
    ::setenv(name, value, 1);
    changed = true;
  }
  if (changed) ::execv("/proc/self/exe", argv);   // returns only on failure: then run on with the defaults
}

// False when glibc refused a setting (then steps fault fresh pages in: slower, not wrong).
inline bool keep_freed_memory() {
  constexpr int kHeapBufferBytes = 32 << 20;
  constexpr int kKeptFreeBytes = 128 << 20;
  return ::mallopt(M_MMAP_THRESHOLD, kHeapBufferBytes) == 1 && ::mallopt(M_TRIM_THRESHOLD, kKeptFreeBytes) == 1;
}

}  // namespace sg::train
