// The building blocks of a transformer layer as plain functions over tensors (llm.c style).
// Shapes: B batch, T new tokens, S = past + T keys, D model width, H heads, G kv heads, E head dim.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "model/config.h"

namespace sg::model {

// Something added to a frozen linear module's output: LoRA, SPF deltas, or an adapter held in an enclave.
class LinearAdapter {
 public:
  virtual ~LinearAdapter() = default;
  // x (..., in) and the frozen module's output (..., out) -> the adapted output (..., out).
  virtual at::Tensor apply(const at::Tensor& x, const at::Tensor& frozen_output) const = 0;
  // The frozen weight (out, in) with this adapter folded in, for `sliceguard merge`.
  virtual at::Tensor merged(const at::Tensor& frozen_weight) const = 0;
};

// y = x W^T + b (+ adapter); weight is (out, in) (gpt2 Conv1D weights are transposed at load).
struct Linear {
  at::Tensor weight;
  at::Tensor bias;   // undefined when the module has none
  std::shared_ptr<const LinearAdapter> adapter;
  at::Tensor operator()(const at::Tensor& x) const;
};

// RMSNorm (weight only, computed in fp32 as HF does; in double for a double model) or LayerNorm (weight and bias, gpt2).
struct Norm {
  at::Tensor weight;
  at::Tensor bias;
  double eps = 1e-6;
  at::Tensor operator()(const at::Tensor& x) const;
};

// cos and sin tables for rotate-half RoPE at the given positions: each (B,T,E), computed in float32 as HF
// does, returned in `dtype` (the model's).
std::pair<at::Tensor, at::Tensor> rope_tables(const ModelConfig& config, const at::Tensor& positions,
                                              c10::ScalarType dtype);
// x (B,H,T,E) rotated: x*cos + rotate_half(x)*sin.
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

// Additive attention mask (B,1,T,S) in `dtype` (float32, float64, bf16, fp16): 0 where query t may see key s
// (causal, not padding, inside the sliding window), the dtype's lowest value elsewhere (HF uses finfo.min, not
// -inf, so padded rows stay finite).
at::Tensor attention_bias(const at::Tensor& key_mask, int64_t past, int64_t new_tokens, const ModelConfig& config,
                          c10::ScalarType dtype);

// Scaled dot-product attention with GQA: q (B,H,T,E), k/v (B,G,S,E), bias (B,1,T,S) -> (B,T,H*E), through
// LibTorch's fused scaled_dot_product_attention (HF's default "sdpa" attention; softmax accumulated in float32).
at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias);

// Attention over part of the keys, per head, with the log-sum-exp of its scores: out (B,H,T,E), lse (B,H,T).
// Two parts over disjoint key sets merge into the attention over their union (merge_attention), which is how
// a layer attends over keys another process holds (ExternalAttention in transformer.h).
struct PartialAttention {
  at::Tensor out, lse;
};
// As `attend`, over k/v (B or 1,G,S,E); `bias` (B,1,T,S) may be undefined (every key visible).
PartialAttention attend_partial(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias);
// softmax over the union = each part weighted by exp(lse_part - lse_union); returns (B,T,H*E) like `attend`.
at::Tensor merge_attention(const PartialAttention& a, const PartialAttention& b);

at::Tensor activate(const at::Tensor& x, const std::string& hidden_act);

}  // namespace sg::model
