// Process-wide settings every `sliceguard` process (and the bench) applies first thing in main.
//
// ensure_passive_thread_waits: idle compute threads block instead of spinning, for processes that share the cores
// with another compute process (`client`, `server`, `enclave`, the bench). LibTorch's OpenMP threads (libgomp;
// MKL's GEMMs run on them too) spin after every parallel region by default, and on a small machine the spinning
// threads take the cores a co-located enclave needs while its host waits for a call. Measured on the 2-core
// machine of docs/RESULTS.md (`make bench`, LibTorch 1.13): OMP_WAIT_POLICY=PASSIVE took federated training's co-located
// client enclave from 0.45x to 0.62x of local. A process alone on its cores keeps libgomp's default (spin a while,
// then sleep): `sliceguard finetune` on the bench-hf model ran at ~1,070 tokens/s passive against ~1,235 spinning
// (LibTorch 2.15, 2 threads), since every parallel region then starts without a futex wake-up.
// libgomp reads the variable once, when it is loaded, so a process that finds it unset sets it and re-executes
// itself before doing anything else (child processes, enclaves included, inherit it; the Gramine manifest sets
// it). An explicit setting by the user is kept.
//
// keep_freed_memory: every training step, enclave request and host<->enclave call allocates tensor- and
// frame-sized buffers. glibc serves those above 128 KiB by mmap, or trims the heap after they are freed, so each
// step faulted fresh zeroed pages in again (a perf profile of the federated bench's client enclave, d512 model:
// ~30% of its time in the kernel's page faults; `make bench`'s channel rows: a 1 MB batch seal+open at 0.54 GB/s
// without, 1.15 GB/s with). Buffers up to 32 MiB (glibc's ceiling for this setting) come from the heap, and up to
// 128 MiB of freed heap is kept for the next step. In a single-threaded enclave that does not raise the peak,
// which is one request's working set either way; a multi-threaded host may keep that much per malloc arena.
#pragma once

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

namespace sg::runtime {

inline void ensure_passive_thread_waits(char** argv) {
  bool changed = false;
  const std::pair<const char*, const char*> settings[] = {{"OMP_WAIT_POLICY", "PASSIVE"}};
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

}  // namespace sg::runtime
