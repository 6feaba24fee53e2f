#include "runtime/compute_threads.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <thread>

namespace sg::runtime {

void set_compute_threads(int threads) {
  const int n = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);   // also sizes MKL's threads (the wheel's BLAS)
}

}  // namespace sg::runtime
