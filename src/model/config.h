// Model configuration read from a Hugging Face `config.json` (llama, qwen2, mistral, gpt2).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace sg::model {

// config.json is malformed or asks for something we do not implement. One line naming file and field.
struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class Family { Llama, Qwen2, Mistral, Gpt2 };

struct ModelConfig {
  std::string model_type;   // as written in config.json
  Family family = Family::Llama;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int num_layers = 0;
  int num_heads = 0;
  int num_kv_heads = 0;   // == num_heads without GQA
  int64_t head_dim = 0;
  int64_t max_positions = 0;
  double norm_eps = 1e-6;    // rms_norm_eps, or layer_norm_epsilon for gpt2
  double rope_theta = 10000.0;
  double rope_linear_factor = 1.0;   // rope_scaling {"type": "linear", "factor": f}
  bool tie_word_embeddings = false;
  bool qkv_bias = false;   // qwen2 always; llama `attention_bias` (also o_proj)
  bool o_bias = false;
  bool mlp_bias = false;
  std::optional<int64_t> sliding_window;   // mistral: keys this many positions back or more are masked
  std::string hidden_act = "silu";         // silu | gelu_new | gelu | relu
  std::optional<int32_t> bos_token_id;
  std::vector<int32_t> eos_token_ids;
  std::optional<int32_t> pad_token_id;

  bool uses_rope() const { return family != Family::Gpt2; }
  int64_t num_parameters() const;   // as Hugging Face counts them (tied weights once)
};

ModelConfig parse_config(const std::string& json_text, const std::string& label);
// Reads `dir/config.json` and, for eos ids, `dir/generation_config.json` when present.
ModelConfig load_config(const std::string& dir);

}  // namespace sg::model
