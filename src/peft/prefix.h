// P-tuning v2 = PEFT PREFIX_TUNING: trainable keys and values of `num_virtual_tokens` extra positions in
// every layer. They enter the model exactly as Hugging Face passes them: as the initial KV cache
// (past_key_values), with the attention mask extended by ones and positions starting after the prefix.
// Optional reparameterisation (prefix_projection): embedding -> Linear -> tanh -> Linear, as PEFT's PrefixEncoder.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

namespace sg::model {
class Transformer;
struct KvCache;
struct ForwardContext;
}  // namespace sg::model

namespace sg::peft {

struct PrefixConfig {
  int num_virtual_tokens = 16;
  bool prefix_projection = false;
  int encoder_hidden_size = 0;   // 0 = hidden_size
};

// What a prefix's size depends on: the model's layers and attention geometry.
struct PrefixShape {
  int layers = 0;
  int64_t kv_heads = 0, head_dim = 0, hidden_size = 0;
  static PrefixShape of(const model::Transformer& model);   // every layer must be loaded
};

class Prefix {
 public:
  // Fresh prefix for `model` (all layers must be loaded), initialised as PEFT does (N(0,1) embedding), in the
  // dtype and on the device of the model's weights. Seeded by the caller's torch::manual_seed.
  static Prefix create(const model::Transformer& model, const PrefixConfig& config);
  // The same draws for a model known only by its shape (a client enclave, federated/adapter_service.h).
  static Prefix create(const PrefixShape& shape, const PrefixConfig& config, const at::TensorOptions& options);
  // From a saved `prompt_embeddings` (P, layers*2*token_dim): the encoder output, no projection left; converted
  // to the dtype and device of the model's weights.
  static Prefix from_embeddings(const model::Transformer& model, const at::Tensor& prompt_embeddings);

  const PrefixConfig& config() const { return config_; }
  int64_t token_dim() const { return kv_heads_ * head_dim_; }   // GQA-aware: kv heads x head dim
  int64_t head_dim() const { return head_dim_; }
  std::vector<at::Tensor> parameters() const;
  // The parameters under stable names ("embedding", and "w1", "b1", "w2", "b2" with the projection).
  std::vector<std::pair<std::string, at::Tensor>> named_parameters() const;

  // The encoder output for tokens 0..P-1: (P, layers*2*token_dim) — what PEFT saves as prompt_embeddings.
  at::Tensor prompt_embeddings() const;
  // The prefix as the initial KV cache of a batch of `batch` sequences (what HF gets as past_key_values).
  model::KvCache initial_cache(int64_t batch) const;
  // A context whose cache starts with the prefix for a batch of `tokens` (B,T) with `attention_mask` (B,T)
  // (undefined = all real). `cache` must outlive the context.
  model::ForwardContext context(const at::Tensor& tokens, const at::Tensor& attention_mask, model::KvCache& cache) const;

 private:
  PrefixConfig config_;
  int layers_ = 0;
  int64_t kv_heads_ = 0, head_dim_ = 0;
  at::Tensor embedding_;               // (P, token_dim) with projection, else (P, layers*2*token_dim)
  at::Tensor w1_, b1_, w2_, b2_;       // projection MLP (when prefix_projection)
};

}  // namespace sg::peft
