// sliceguard_bench: prints one JSON object with every benchmark measured in this run (`make bench`).
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <iostream>
#include <thread>

#include "bench/benches.h"

int main() {
  spdlog::set_default_logger(spdlog::stderr_color_mt("bench"));   // stdout is the JSON alone
  at::set_num_threads(int(std::max(1u, std::thread::hardware_concurrency())));
  nlohmann::json out;
  out["machine"] = {{"threads", at::get_num_threads()}};
  out["gemm"] = sg::bench::bench_gemm_peak();
  out["model"] = sg::bench::bench_model(out["gemm"]["gflops"].get<double>());
  out["mfu"] = out["model"]["mfu"];
  out["otp"] = sg::bench::bench_otp();
  out["split"] = sg::bench::bench_split(SG_SLICEGUARD);
  out["federated_client"] = sg::bench::bench_federated(SG_SLICEGUARD);
  std::cout << out.dump(2) << std::endl;
  return 0;
}
