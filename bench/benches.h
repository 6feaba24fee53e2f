// The benchmarks `make bench` runs; each returns one JSON object with figures measured in that run.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace sg::bench {

// The bundled model and the training data both secure benches run (SG_SOURCE_DIR: the repository root).
inline const std::string kBundled = std::string(SG_SOURCE_DIR) + "/models/sliceguard-med-tiny";
inline const std::string kData = std::string(SG_SOURCE_DIR) + "/data/medical/triage/train.jsonl";

struct BenchShape {
  int64_t d_model = 512, layers = 8, heads = 8, ffn = 1408, vocab = 8192, seq = 256, batch = 4;
};
// A random llama checkpoint of `shape` in a temp dir (config.json + model.safetensors); returns the dir.
std::string write_random_llama(const BenchShape& shape);
// The same with the tokenizer files of `tokenizer_dir`, so the bundled JSONL data runs on it.
std::string bench_llama_with_tokenizer(const std::string& tokenizer_dir, const BenchShape& shape = {});

nlohmann::json bench_gemm_peak();         // fp32 GEMM GFLOP/s on this machine (all cores)
nlohmann::json bench_model(double gemm_gflops);   // forward+backward tokens/s and MFU against that peak
nlohmann::json bench_channel();               // AEAD frame encrypt+decrypt GB/s per core beside memcpy
// Split fine-tuning (Method 2) vs local training of the same model, adapters and batches, in one run: tokens/s,
// ratio, and where the split run's time goes. `sliceguard` is the binary the enclave runs as.
nlohmann::json bench_split(const std::string& sliceguard);
// Method 1 local steps with the adapter in a co-located client enclave vs local LoRA, on the bundled model and
// random d512 and d1024 llamas; the client enclave's memory at rest and at its peak beside the state and
// activations it holds.
nlohmann::json bench_federated(const std::string& sliceguard);

}  // namespace sg::bench
