// The benchmarks `make bench` runs; each returns one JSON object with figures measured in that run.
#pragma once

#include <nlohmann/json.hpp>

namespace sg::bench {

nlohmann::json bench_gemm_peak();         // fp32 GEMM GFLOP/s on this machine (all cores)
nlohmann::json bench_model(double gemm_gflops);   // forward+backward tokens/s and MFU against that peak
nlohmann::json bench_otp();               // OTP frame encrypt+decrypt GB/s per core beside memcpy

}  // namespace sg::bench
