// Forward+backward throughput of a llama-style model (d 512, 8 layers, 8 heads, seq 256, batch 4, fp32)
// and the fp32 GEMM peak it is measured against; mfu = achieved model FLOP/s / GEMM peak.
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <array>
#include <vector>

#include "bench/benches.h"
#include "model/transformer.h"
#include "tensor/torch_bridge.h"

namespace sg::bench {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

// Writes a random llama checkpoint so the benchmark runs the real loading path.
std::string write_random_llama(const BenchShape& s) {
  auto dir = std::filesystem::temp_directory_path() / ("sliceguard_bench_llama_d" + std::to_string(s.d_model));
  std::filesystem::create_directories(dir);
  nlohmann::json config = {{"model_type", "llama"},      {"vocab_size", s.vocab},
                           {"hidden_size", s.d_model},   {"intermediate_size", s.ffn},
                           {"num_hidden_layers", s.layers}, {"num_attention_heads", s.heads},
                           {"num_key_value_heads", s.heads}, {"max_position_embeddings", 4096}};
  std::ofstream(dir / "config.json") << config.dump(2);
  torch::manual_seed(0);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  auto randn = [](std::vector<int64_t> shape) { return torch::randn(shape) * 0.02; };
  tensors.emplace_back("model.embed_tokens.weight", randn({s.vocab, s.d_model}));
  tensors.emplace_back("lm_head.weight", randn({s.vocab, s.d_model}));
  tensors.emplace_back("model.norm.weight", torch::ones({s.d_model}));
  for (int64_t i = 0; i < s.layers; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    for (const char* m : {"q_proj", "k_proj", "v_proj", "o_proj"})
      tensors.emplace_back(p + "self_attn." + m + ".weight", randn({s.d_model, s.d_model}));
    tensors.emplace_back(p + "mlp.gate_proj.weight", randn({s.ffn, s.d_model}));
    tensors.emplace_back(p + "mlp.up_proj.weight", randn({s.ffn, s.d_model}));
    tensors.emplace_back(p + "mlp.down_proj.weight", randn({s.d_model, s.ffn}));
    tensors.emplace_back(p + "input_layernorm.weight", torch::ones({s.d_model}));
    tensors.emplace_back(p + "post_attention_layernorm.weight", torch::ones({s.d_model}));
  }
  tensor::save_tensors((dir / "model.safetensors").string(), tensors);
  return dir.string();
}

std::string bench_llama_with_tokenizer(const std::string& tokenizer_dir, const BenchShape& shape) {
  const std::string dir = write_random_llama(shape);
  for (const auto& entry : std::filesystem::directory_iterator(tokenizer_dir)) {
    const auto name = entry.path().filename().string();
    if (name.rfind("tokenizer", 0) == 0 || name == "special_tokens_map.json")
      std::filesystem::copy_file(entry.path(), std::filesystem::path(dir) / name,
                                 std::filesystem::copy_options::overwrite_existing);
  }
  return dir;
}

nlohmann::json bench_gemm_peak() {
  const int64_t n = 2048;
  auto a = torch::randn({n, n}), b = torch::randn({n, n});
  torch::mm(a, b);   // warm up
  double best = 1e30;
  for (int rep = 0; rep < 5; ++rep) {
    auto start = Clock::now();
    auto c = torch::mm(a, b);
    best = std::min(best, seconds_since(start));
  }
  return {{"n", n}, {"gflops", 2.0 * n * n * n / best / 1e9}};
}

nlohmann::json bench_model(double gemm_gflops) {
  BenchShape s;
  const std::string dir = write_random_llama(s);
  auto model = model::Transformer::load(dir);
  for (auto& [name, p] : model.named_parameters()) p.requires_grad_(true);

  auto tokens = torch::randint(0, s.vocab, {s.batch, s.seq}, torch::kInt64);
  auto step = [&] {
    auto ctx = model::ForwardContext::for_tokens(tokens);
    auto logits = model.forward(tokens, ctx);
    auto loss = torch::cross_entropy_loss(logits.view({-1, s.vocab}), tokens.view({-1}));
    loss.backward();
  };
  step();   // warm up
  const int steps = 3;
  double forward_backward = 0;
  for (int i = 0; i < steps; ++i) {
    auto start = Clock::now();
    step();
    forward_backward += seconds_since(start);
  }
  const double tokens_per_s = steps * s.batch * s.seq / forward_backward;

  // Where the time goes: the forward alone, and the step's weight GEMMs replayed on their own (each linear
  // layer's forward GEMM and its two backward GEMMs, dX and dW, plus the head's) — the rest of a step is
  // attention, norms, activations, the loss and autograd bookkeeping.
  double forward_only = 0;
  {
    torch::NoGradGuard no_grad;
    for (int i = 0; i < steps; ++i) {
      auto start = Clock::now();
      auto ctx = model::ForwardContext::for_tokens(tokens);
      model.forward(tokens, ctx);
      forward_only += seconds_since(start);
    }
  }
  const int64_t rows = s.batch * s.seq;
  std::vector<std::pair<int64_t, int64_t>> linears;   // (in, out)
  for (int64_t l = 0; l < s.layers; ++l) {
    for (int k = 0; k < 4; ++k) linears.emplace_back(s.d_model, s.d_model);
    linears.emplace_back(s.d_model, s.ffn);
    linears.emplace_back(s.d_model, s.ffn);
    linears.emplace_back(s.ffn, s.d_model);
  }
  linears.emplace_back(s.d_model, s.vocab);
  std::vector<std::array<at::Tensor, 3>> operands;   // x, w, dy: allocated outside the timing
  for (auto [in, out] : linears)
    operands.push_back({torch::randn({rows, in}), torch::randn({out, in}), torch::randn({rows, out})});
  auto replay = [&] {
    for (const auto& [x, w, dy] : operands) {
      torch::mm(x, w.t());    // forward
      torch::mm(dy, w);       // dX
      torch::mm(dy.t(), x);   // dW
    }
  };
  replay();
  double gemm_seconds = 0;
  for (int i = 0; i < steps; ++i) {
    auto start = Clock::now();
    replay();
    gemm_seconds += seconds_since(start);
  }
  // Training FLOPs per token (PaLM appendix B): 6 * matmul parameters + 12 * layers * seq * d_model.
  const double matmul_params = s.layers * (4.0 * s.d_model * s.d_model + 3.0 * s.d_model * s.ffn) +
                               double(s.vocab) * s.d_model;
  const double flops_per_token = 6.0 * matmul_params + 12.0 * s.layers * s.seq * s.d_model;
  const double achieved_gflops = tokens_per_s * flops_per_token / 1e9;
  std::filesystem::remove_all(dir);
  return {{"config", {{"d_model", s.d_model}, {"layers", s.layers}, {"heads", s.heads}, {"ffn", s.ffn},
                      {"vocab", s.vocab}, {"seq", s.seq}, {"batch", s.batch}, {"dtype", "float32"}}},
          {"forward_backward_tokens_per_s", tokens_per_s},
          {"time_per_step_seconds", {{"forward_backward", forward_backward / steps},
                                     {"forward_only", forward_only / steps},
                                     {"weight_gemms_replayed", gemm_seconds / steps}}},
          {"model_gflops", achieved_gflops},
          {"mfu", achieved_gflops / gemm_gflops}};
}

}  // namespace sg::bench
