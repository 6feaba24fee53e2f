#include "train/compute_threads.h"

#include <ATen/Parallel.h>
#include <dlfcn.h>

#include <algorithm>
#include <thread>

namespace sg::train {

void set_compute_threads(int threads) {
  const int n = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
  // Looked up rather than linked: LibTorch reaches BLAS through libblas.so.3, which is OpenBLAS only where the
  // Debian alternative points there; another BLAS simply has no such pool to size.
  using SetBlasThreads = void (*)(int);
  if (auto set_blas_threads = reinterpret_cast<SetBlasThreads>(::dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    set_blas_threads(n);
}

}  // namespace sg::train
