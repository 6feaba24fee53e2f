#include "peft/prefix.h"

#include <torch/torch.h>

#include <cmath>

#include "model/transformer.h"

namespace sg::peft {

namespace {
// nn.Linear's default init (kaiming_uniform a=sqrt 5 for weights, U(+-1/sqrt(fan_in)) for bias).
std::pair<at::Tensor, at::Tensor> linear_init(int64_t in, int64_t out, const at::TensorOptions& options) {
  auto w = torch::empty({out, in}, options);
  torch::nn::init::kaiming_uniform_(w, std::sqrt(5.0));
  const double bound = 1.0 / std::sqrt(double(in));
  auto b = torch::empty({out}, options).uniform_(-bound, bound);
  return {w.requires_grad_(true), b.requires_grad_(true)};
}

void require_all_layers(const model::Transformer& model) {
  const auto& s = model.slice();
  if (s.first_layer != 0 || s.end_layer != model.config().num_layers)
    throw std::invalid_argument("prefix tuning needs every layer of the model loaded");
}

// The dtype and device of the model's weights: the prefix follows them, as LoRA and SPF do.
at::TensorOptions weight_options(const model::Transformer& model) {
  return model.linear_modules().front().linear->weight.options();
}
}  // namespace

PrefixShape PrefixShape::of(const model::Transformer& model) {
  require_all_layers(model);
  const auto& c = model.config();
  return {c.num_layers, c.num_kv_heads, c.head_dim, c.hidden_size};
}

Prefix Prefix::create(const model::Transformer& model, const PrefixConfig& config) {
  return create(PrefixShape::of(model), config, weight_options(model));
}

Prefix Prefix::create(const PrefixShape& shape, const PrefixConfig& config, const at::TensorOptions& options) {
  if (config.num_virtual_tokens <= 0) throw std::invalid_argument("prefix: num_virtual_tokens must be positive");
  if (shape.layers <= 0 || shape.kv_heads <= 0 || shape.head_dim <= 0 || shape.hidden_size <= 0)
    throw std::invalid_argument("prefix: the model shape needs positive layers, kv_heads, head_dim and hidden_size");
  Prefix p;
  p.config_ = config;
  p.layers_ = shape.layers;
  p.kv_heads_ = shape.kv_heads;
  p.head_dim_ = shape.head_dim;
  const int64_t out = int64_t(p.layers_) * 2 * p.token_dim();
  if (config.prefix_projection) {
    const int64_t hidden = config.encoder_hidden_size > 0 ? config.encoder_hidden_size : shape.hidden_size;
    p.embedding_ = torch::randn({config.num_virtual_tokens, p.token_dim()}, options).requires_grad_(true);
    std::tie(p.w1_, p.b1_) = linear_init(p.token_dim(), hidden, options);
    std::tie(p.w2_, p.b2_) = linear_init(hidden, out, options);
  } else {
    p.embedding_ = torch::randn({config.num_virtual_tokens, out}, options).requires_grad_(true);
  }
  return p;
}

Prefix Prefix::from_embeddings(const model::Transformer& model, const at::Tensor& prompt_embeddings) {
  const auto shape = PrefixShape::of(model);
  Prefix p;
  p.layers_ = shape.layers;
  p.kv_heads_ = shape.kv_heads;
  p.head_dim_ = shape.head_dim;
  const int64_t width = int64_t(p.layers_) * 2 * p.token_dim();
  if (prompt_embeddings.dim() != 2 || prompt_embeddings.size(1) != width)
    throw std::invalid_argument("prefix: prompt_embeddings has shape " + c10::str(prompt_embeddings.sizes()) +
                                ", expected (num_virtual_tokens, " + std::to_string(width) + ")");
  p.config_.num_virtual_tokens = int(prompt_embeddings.size(0));
  p.embedding_ = prompt_embeddings.to(weight_options(model)).clone().requires_grad_(true);
  return p;
}

std::vector<at::Tensor> Prefix::parameters() const {
  if (config_.prefix_projection && w1_.defined()) return {embedding_, w1_, b1_, w2_, b2_};
  return {embedding_};
}

std::vector<std::pair<std::string, at::Tensor>> Prefix::named_parameters() const {
  if (config_.prefix_projection && w1_.defined())
    return {{"embedding", embedding_}, {"w1", w1_}, {"b1", b1_}, {"w2", w2_}, {"b2", b2_}};
  return {{"embedding", embedding_}};
}

at::Tensor Prefix::prompt_embeddings() const {
  if (!w1_.defined()) return embedding_;
  auto hidden = torch::tanh(torch::nn::functional::linear(embedding_, w1_, b1_));
  return torch::nn::functional::linear(hidden, w2_, b2_);
}

model::KvCache Prefix::initial_cache(int64_t batch) const {
  const int64_t P = config_.num_virtual_tokens;
  // (P, L*2*G*E) -> (L*2, G, P, E): PEFT's view + permute([2, 0, 3, 1, 4]); entry 2l is layer l's key.
  auto kv = prompt_embeddings().view({P, layers_ * 2, kv_heads_, head_dim_}).permute({1, 2, 0, 3});
  model::KvCache cache;
  cache.keys.resize(layers_);
  cache.values.resize(layers_);
  for (int l = 0; l < layers_; ++l) {
    cache.keys[l] = kv[2 * l].unsqueeze(0).expand({batch, kv_heads_, P, head_dim_});
    cache.values[l] = kv[2 * l + 1].unsqueeze(0).expand({batch, kv_heads_, P, head_dim_});
  }
  return cache;
}

model::ForwardContext Prefix::context(const at::Tensor& tokens, const at::Tensor& attention_mask,
                                      model::KvCache& cache) const {
  const int64_t B = tokens.size(0), T = tokens.size(1), P = config_.num_virtual_tokens;
  cache = initial_cache(B);
  model::ForwardContext ctx;
  ctx.cache = &cache;
  // PEFT drops position_ids, so the model numbers the tokens P, P+1, ... after the prefix.
  ctx.positions = torch::arange(P, P + T, torch::kInt64).unsqueeze(0).expand({B, T});
  auto mask = attention_mask.defined() ? attention_mask.to(torch::kInt64) : torch::ones({B, T}, torch::kInt64);
  ctx.attention_mask = torch::cat({torch::ones({B, P}, torch::kInt64), mask}, 1);
  return ctx;
}

}  // namespace sg::peft
