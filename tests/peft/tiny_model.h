// Tiny random Hugging Face checkpoints written by a test (config.json + model.safetensors), and random batches:
// fast to load, no Python needed. llama: 2 layers, 4 heads over 2 kv heads (GQA), head dim 8, 48 MLP neurons.
// gpt2: 2 layers, 4 heads, Conv1D weights stored (in, out), 48 MLP neurons, tied embeddings.
#pragma once

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "tensor/torch_bridge.h"

namespace sg::peft::test_util {

enum class TinyFamily { Llama, Gpt2 };

constexpr int64_t kVocab = 48, kHidden = 32, kNeurons = 48, kLayers = 2, kHeads = 4, kKvHeads = 2;

inline std::string family_name(TinyFamily f) { return f == TinyFamily::Llama ? "llama" : "gpt2"; }

// Writes the checkpoint into `dir` (existing) and returns `dir`. Weights ~ 0.15 N(0,1), norms 1 + 0.2 N(0,1).
inline std::string write_tiny_model(const std::string& dir, TinyFamily family, uint64_t seed = 1) {
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  auto weight = [&](const std::string& name, std::vector<int64_t> shape) {
    tensors.emplace_back(name, 0.15 * torch::randn(shape, gen));
  };
  auto norm = [&](const std::string& name, bool with_bias) {
    tensors.emplace_back(name + ".weight", 1.0 + 0.2 * torch::randn({kHidden}, gen));
    if (with_bias) tensors.emplace_back(name + ".bias", 0.1 * torch::randn({kHidden}, gen));
  };
  nlohmann::json config;
  if (family == TinyFamily::Llama) {
    const int64_t kv = kKvHeads * (kHidden / kHeads);
    config = {{"model_type", "llama"}, {"vocab_size", kVocab},
              {"hidden_size", kHidden}, {"intermediate_size", kNeurons}, {"num_hidden_layers", kLayers},
              {"num_attention_heads", kHeads}, {"num_key_value_heads", kKvHeads}, {"rms_norm_eps", 1e-5},
              {"max_position_embeddings", 64}, {"tie_word_embeddings", false}, {"hidden_act", "silu"}};
    weight("model.embed_tokens.weight", {kVocab, kHidden});
    for (int i = 0; i < kLayers; ++i) {
      const std::string p = "model.layers." + std::to_string(i) + ".";
      norm(p + "input_layernorm", false);
      weight(p + "self_attn.q_proj.weight", {kHidden, kHidden});
      weight(p + "self_attn.k_proj.weight", {kv, kHidden});
      weight(p + "self_attn.v_proj.weight", {kv, kHidden});
      weight(p + "self_attn.o_proj.weight", {kHidden, kHidden});
      norm(p + "post_attention_layernorm", false);
      weight(p + "mlp.gate_proj.weight", {kNeurons, kHidden});
      weight(p + "mlp.up_proj.weight", {kNeurons, kHidden});
      weight(p + "mlp.down_proj.weight", {kHidden, kNeurons});
    }
    norm("model.norm", false);
    weight("lm_head.weight", {kVocab, kHidden});
  } else {
    config = {{"model_type", "gpt2"}, {"vocab_size", kVocab},
              {"n_embd", kHidden}, {"n_inner", kNeurons}, {"n_layer", kLayers}, {"n_head", kHeads},
              {"n_positions", 64}, {"activation_function", "gelu_new"}};
    weight("transformer.wte.weight", {kVocab, kHidden});
    weight("transformer.wpe.weight", {64, kHidden});
    for (int i = 0; i < kLayers; ++i) {
      const std::string p = "transformer.h." + std::to_string(i) + ".";
      norm(p + "ln_1", true);
      weight(p + "attn.c_attn.weight", {kHidden, 3 * kHidden});   // Conv1D: (in, out)
      weight(p + "attn.c_attn.bias", {3 * kHidden});
      weight(p + "attn.c_proj.weight", {kHidden, kHidden});
      weight(p + "attn.c_proj.bias", {kHidden});
      norm(p + "ln_2", true);
      weight(p + "mlp.c_fc.weight", {kHidden, kNeurons});
      weight(p + "mlp.c_fc.bias", {kNeurons});
      weight(p + "mlp.c_proj.weight", {kNeurons, kHidden});
      weight(p + "mlp.c_proj.bias", {kHidden});
    }
    norm("transformer.ln_f", true);
  }
  std::ofstream(dir + "/config.json") << config.dump(2);
  tensor::save_tensors(dir + "/model.safetensors", tensors);
  return dir;
}

// `count` batches (B=2, T=7) of random tokens: row 0 full, row 1 right-padded by 2; the first 2 tokens of each
// row are prompt (label -100), as the data pipeline masks them.
inline std::vector<data::Batch> random_batches(int count, uint64_t seed) {
  auto gen = at::detail::createCPUGenerator(seed);
  std::vector<data::Batch> out;
  for (int i = 0; i < count; ++i) {
    data::Batch b;
    b.attention_mask = torch::ones({2, 7}, torch::kInt64);
    b.attention_mask[1].narrow(0, 5, 2).fill_(0);
    b.input_ids = torch::randint(1, kVocab, {2, 7}, gen, torch::kInt64).masked_fill(b.attention_mask == 0, 0);
    b.labels = b.input_ids.masked_fill(b.attention_mask == 0, -100);
    b.labels.narrow(1, 0, 2).fill_(-100);
    out.push_back(b);
  }
  return out;
}

}  // namespace sg::peft::test_util
