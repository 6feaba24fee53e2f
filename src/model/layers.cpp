#include "model/layers.h"

#include <torch/torch.h>

#include <limits>

namespace sg::model {

at::Tensor Linear::operator()(const at::Tensor& x) const {
  auto y = bias.defined() ? torch::nn::functional::linear(x, weight, bias) : torch::nn::functional::linear(x, weight);
  return adapter ? adapter->apply(x, y) : y;
}

at::Tensor Norm::operator()(const at::Tensor& x) const {
  if (bias.defined()) return torch::layer_norm(x, {x.size(-1)}, weight, bias, eps);
  const auto input_dtype = x.scalar_type();
  auto h = x.to(at::promote_types(input_dtype, torch::kFloat32));   // fp32 at least (double stays double)
  h = h * torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + eps);
  return weight * h.to(input_dtype);
}

std::pair<at::Tensor, at::Tensor> rope_tables(const ModelConfig& config, const at::Tensor& positions,
                                              c10::ScalarType dtype) {
  const int64_t dim = config.head_dim;
  // As HF: inv_freq = 1 / theta^(arange(0, dim, 2) / dim), all in float32.
  auto exponents = torch::arange(0, dim, 2, torch::kInt64).to(torch::kFloat32) / double(dim);
  auto inv_freq = 1.0 / torch::pow(torch::tensor(config.rope_theta, torch::kFloat32), exponents);
  auto pos = positions.to(torch::kFloat32);
  if (config.rope_linear_factor != 1.0) pos = pos / config.rope_linear_factor;
  auto freqs = pos.unsqueeze(-1) * inv_freq;          // (B,T,E/2)
  auto emb = torch::cat({freqs, freqs}, -1);          // (B,T,E)
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  auto rotated = torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos.unsqueeze(1) + rotated * sin.unsqueeze(1);
}

at::Tensor attention_bias(const at::Tensor& key_mask, int64_t past, int64_t new_tokens, const ModelConfig& config,
                          c10::ScalarType dtype) {
  const int64_t keys = past + new_tokens;
  auto query_index = torch::arange(past, keys, torch::kInt64).unsqueeze(1);   // (T,1)
  auto key_index = torch::arange(0, keys, torch::kInt64).unsqueeze(0);        // (1,S)
  auto allowed = key_index <= query_index;                                     // causal
  // As transformers 5 (masking_utils.sliding_window_overlay): keys with query - key < sliding_window are visible,
  // the query's own position included. (4.40's _make_causal_mask kept one key more: <=.)
  if (config.sliding_window) allowed = allowed & (query_index - key_index < *config.sliding_window);
  allowed = allowed.unsqueeze(0).unsqueeze(0);                                 // (1,1,T,S)
  if (key_mask.defined()) allowed = allowed & key_mask.to(torch::kBool).unsqueeze(1).unsqueeze(1);
  // The dtype's own lowest value (HF: torch.finfo(dtype).min): float's would round to -inf in bf16.
  double lowest = std::numeric_limits<float>::lowest();
  if (dtype == torch::kFloat64) lowest = std::numeric_limits<double>::lowest();
  if (dtype == torch::kBFloat16) lowest = double(std::numeric_limits<c10::BFloat16>::lowest());
  if (dtype == torch::kFloat16) lowest = double(std::numeric_limits<c10::Half>::lowest());
  return torch::where(allowed, torch::zeros({}, dtype), torch::full({}, lowest, dtype));
}

at::Tensor attend(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), E = q.size(3);
  const bool grouped = k.size(1) != H;   // GQA: the kernel shares each kv head across its group, no copies
  auto out = at::scaled_dot_product_attention(q, k, v, bias, /*dropout_p=*/0.0, /*is_causal=*/false,
                                              /*scale=*/std::nullopt, /*enable_gqa=*/grouped);
  return out.transpose(1, 2).reshape({B, T, H * E});
}

PartialAttention attend_partial(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v, const at::Tensor& bias) {
  const int64_t H = q.size(1), E = q.size(3);
  const int64_t groups = H / k.size(1);
  auto keys = groups == 1 ? k : k.repeat_interleave(groups, 1);
  auto values = groups == 1 ? v : v.repeat_interleave(groups, 1);
  const auto accumulate = at::promote_types(q.scalar_type(), torch::kFloat32);
  auto scores = (torch::matmul(q, keys.transpose(-2, -1)) / std::sqrt(double(E))).to(accumulate);
  if (bias.defined()) scores = scores + bias;
  auto lse = scores.logsumexp(-1);
  auto probs = (scores - lse.unsqueeze(-1)).exp().to(q.scalar_type());
  return {torch::matmul(probs, values), lse};
}

at::Tensor merge_attention(const PartialAttention& a, const PartialAttention& b) {
  const int64_t B = a.out.size(0), H = a.out.size(1), T = a.out.size(2), E = a.out.size(3);
  auto lse = torch::logaddexp(a.lse, b.lse);
  auto weight = [&](const at::Tensor& part) { return (part - lse).exp().unsqueeze(-1).to(a.out.scalar_type()); };
  auto out = a.out * weight(a.lse) + b.out * weight(b.lse);
  return out.transpose(1, 2).reshape({B, T, H * E});
}

at::Tensor activate(const at::Tensor& x, const std::string& hidden_act) {
  if (hidden_act == "silu") return torch::silu(x);
  if (hidden_act == "gelu_new" || hidden_act == "gelu_pytorch_tanh") return torch::gelu(x, "tanh");
  if (hidden_act == "gelu") return torch::gelu(x);
  return torch::relu(x);
}

}  // namespace sg::model
