// sliceguard_bench: prints one JSON object with every benchmark measured in this run (`make bench`).
// SG_BENCH=channel,federated (names: gemm, model, channel, split, federated) runs only those; model needs gemm.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <cstdlib>
#include <iostream>
#include <string>

#include "bench/benches.h"
#include "runtime/compute_threads.h"
#include "runtime/process_tuning.h"

namespace {
bool selected(const char* name) {
  const char* only = std::getenv("SG_BENCH");
  if (!only || !*only) return true;
  const std::string list = std::string(",") + only + ",";
  return list.find(std::string(",") + name + ",") != std::string::npos;
}
}  // namespace

int main(int, char** argv) {
  sg::runtime::ensure_passive_thread_waits(argv);
  spdlog::set_default_logger(spdlog::stderr_color_mt("bench"));   // stdout is the JSON alone
  if (!sg::runtime::keep_freed_memory()) spdlog::warn("the allocator refused its settings: figures include page faults");
  sg::runtime::set_compute_threads(0);   // every core
  nlohmann::json out;
  out["machine"] = {{"threads", at::get_num_threads()}};
  if (selected("gemm") || selected("model")) out["gemm"] = sg::bench::bench_gemm_peak();
  if (selected("model")) {
    out["model"] = sg::bench::bench_model(out["gemm"]["gflops"].get<double>());
    out["mfu"] = out["model"]["mfu"];
  }
  if (selected("channel")) out["channel"] = sg::bench::bench_channel();
  if (selected("split")) out["split"] = sg::bench::bench_split(SG_SLICEGUARD);
  if (selected("federated")) out["federated_client"] = sg::bench::bench_federated(SG_SLICEGUARD);
  std::cout << out.dump(2) << std::endl;
  return 0;
}
