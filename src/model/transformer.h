// One decoder-only transformer for the llama, qwen2, mistral and gpt2 families, with per-layer entry
// points so any slice of it can run on its own:  logits = head(forward_layers(embed(tokens), 0, L)).
// Semantics are Hugging Face's exactly (eager attention); the oracle tests compare logits at 1e-4.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/config.h"
#include "model/layers.h"
#include "model/weight_names.h"

namespace sg::model {

// What a slice loads. A split client loads {embedding, layers [0,k)}; the server enclave loads
// {layers [k,L), head}. Tensors outside the slice are never read from disk.
struct SliceSpec {
  bool embedding = true;
  int first_layer = 0;
  int end_layer = -1;   // exclusive; -1 = all layers
  bool head = true;
  static SliceSpec everything() { return {}; }
};

// Keys and values of past tokens, per absolute layer index: (B, kv_heads, S, head_dim).
struct KvCache {
  std::vector<at::Tensor> keys, values;
  int64_t length(int layer) const;
};

// Keys and values this process does not hold — P-tuning's prefix kept in a client enclave
// (federated/remote_prefix.h): every layer's attention also covers them, merged by log-sum-exp.
class ExternalAttention {
 public:
  virtual ~ExternalAttention() = default;
  // The attention of `layer`'s queries q (B,H,T,E), after RoPE, over the external keys of that layer.
  virtual PartialAttention attend(int layer, const at::Tensor& q) const = 0;
};

// Inputs shared by every layer of one forward pass over T new tokens.
struct ForwardContext {
  at::Tensor positions;        // (B,T) int64 position ids of the new tokens
  at::Tensor attention_mask;   // (B,S+T) 1 = real token, 0 = padding; undefined = all real
  KvCache* cache = nullptr;    // when set, layers attend over and extend it
  const ExternalAttention* external = nullptr;   // when set, layers attend over its keys too (always visible)

  // Positions as Hugging Face derives them: cumsum(mask) - 1 (1 at padding), or past .. past+T-1.
  static ForwardContext for_tokens(const at::Tensor& tokens, const at::Tensor& attention_mask = {},
                                   KvCache* cache = nullptr, int64_t past = 0);
};

// A linear module of a loaded layer, addressed by its Hugging Face name (adapters attach to these).
struct LinearModule {
  std::string name;   // "model.layers.3.self_attn.q_proj"
  int layer;
  Role role;
  const Linear* linear;
};

class Transformer {
 public:
  // Loads config.json and the slice's tensors (safetensors, sharded or not) from a checkpoint dir,
  // converted to float32 on the CPU (zero-copy where the file already holds aligned float32).
  static Transformer load(const std::string& dir, const SliceSpec& spec = SliceSpec::everything());
  ~Transformer();
  Transformer(Transformer&&) noexcept;
  Transformer& operator=(Transformer&&) noexcept;

  const ModelConfig& config() const;
  const SliceSpec& slice() const;

  at::Tensor embed(const at::Tensor& tokens, const ForwardContext& ctx) const;        // (B,T) -> (B,T,D)
  at::Tensor forward_layers(at::Tensor hidden, int from, int to, ForwardContext& ctx) const;  // (B,T,D)
  at::Tensor head(const at::Tensor& hidden) const;                                     // (...,D) -> (...,V)
  at::Tensor hidden_states(const at::Tensor& tokens, ForwardContext& ctx) const;       // (B,T) -> (B,T,D), no head
  at::Tensor forward(const at::Tensor& tokens, ForwardContext& ctx) const;             // (B,T) -> (B,T,V)

  // Loaded tensors under their Hugging Face names (gpt2 Conv1D weights shown transposed to (out,in)).
  std::vector<std::pair<std::string, at::Tensor>> named_parameters() const;

  // Moves every loaded weight out of the read-only file mapping into owned memory and makes it trainable
  // (full-parameter training, `sliceguard pretrain`).
  void make_trainable();
  // Converts every loaded tensor to `dtype` (float64 for gradient checks); forward passes then run in it.
  // Adapters attached afterwards follow the weights' dtype.
  void to(c10::ScalarType dtype);
  // Tensors as a Hugging Face checkpoint stores them (gpt2 Conv1D weights back to (in,out)); adapters folded in.
  std::vector<std::pair<std::string, at::Tensor>> checkpoint_tensors() const;

  std::vector<LinearModule> linear_modules() const;   // of the loaded layers, in layer order
  // Adds `adapter` to a module's output (nullptr removes it). Throws std::invalid_argument for an unknown name.
  void set_adapter(const std::string& module_name, std::shared_ptr<const LinearAdapter> adapter);

 private:
  struct Impl;
  explicit Transformer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::model
