#include "model/transformer.h"

#include <torch/torch.h>

#include <map>
#include <optional>

#include "model/layers.h"
#include "model/weight_names.h"
#include "tensor/safetensors.h"
#include "tensor/torch_bridge.h"

namespace sg::model {

namespace {

// One transformer layer. Decoder families use q/k/v and gate/up/down; gpt2 uses the fused qkv and up/down.
struct Block {
  Norm attn_norm, mlp_norm;
  Linear linears[std::size(kAllRoles)];   // indexed by Role; a role the family lacks stays empty
  const Linear& operator[](Role role) const { return linears[static_cast<int>(role)]; }
  Linear& operator[](Role role) { return linears[static_cast<int>(role)]; }
};

class WeightLoader {
 public:
  WeightLoader(const std::string& dir, const ModelConfig& config)
      : checkpoint_(dir), names_(config, checkpoint_) {}

  const WeightNames& names() const { return names_; }

  at::Tensor tensor(const std::string& name, bool transpose = false) {
    auto t = tensor::load_tensor(checkpoint_, name).to(torch::kFloat32);
    return transpose ? t.t().contiguous() : t;
  }
  at::Tensor optional_tensor(const std::string& name) {
    return checkpoint_.contains(name) ? tensor(name) : at::Tensor();
  }
  bool has(const std::string& name) const { return checkpoint_.contains(name); }

  // A Linear module named `module` (HF name); gpt2 Conv1D weights are (in,out) on disk.
  Linear linear(const std::string& module, bool with_bias, bool conv1d) {
    Linear l;
    l.weight = tensor(names_.on_disk(module + ".weight"), conv1d);
    if (with_bias) l.bias = tensor(names_.on_disk(module + ".bias"));
    return l;
  }
  Norm norm(const std::string& module, bool layer_norm, double eps) {
    Norm n;
    n.weight = tensor(names_.on_disk(module + ".weight"));
    if (layer_norm) n.bias = tensor(names_.on_disk(module + ".bias"));
    n.eps = eps;
    return n;
  }

 private:
  tensor::Checkpoint checkpoint_;
  WeightNames names_;
};

Block load_block(WeightLoader& w, const ModelConfig& c, int i) {
  const WeightNames& n = w.names();
  Block b;
  const bool gpt2 = c.family == Family::Gpt2;
  b.attn_norm = w.norm(n.attn_norm(i), gpt2, c.norm_eps);
  b.mlp_norm = w.norm(n.mlp_norm(i), gpt2, c.norm_eps);
  if (gpt2) {
    for (Role role : {Role::Qkv, Role::O, Role::Up, Role::Down})
      b[role] = w.linear(n.module(i, role), /*with_bias=*/true, /*conv1d=*/true);
  } else {
    for (Role role : {Role::Q, Role::K, Role::V}) b[role] = w.linear(n.module(i, role), c.qkv_bias, false);
    b[Role::O] = w.linear(n.module(i, Role::O), c.o_bias, false);
    for (Role role : {Role::Gate, Role::Up, Role::Down}) b[role] = w.linear(n.module(i, role), c.mlp_bias, false);
  }
  return b;
}

// (B,T,heads*E) -> (B,heads,T,E)
at::Tensor split_heads(const at::Tensor& x, int64_t heads, int64_t head_dim) {
  return x.view({x.size(0), x.size(1), heads, head_dim}).transpose(1, 2);
}

}  // namespace

int64_t KvCache::length(int layer) const {
  if (layer >= int(keys.size()) || !keys[layer].defined()) return 0;
  return keys[layer].size(2);
}

ForwardContext ForwardContext::for_tokens(const at::Tensor& tokens, const at::Tensor& attention_mask,
                                          KvCache* cache, int64_t past) {
  ForwardContext ctx;
  ctx.attention_mask = attention_mask;
  ctx.cache = cache;
  const int64_t B = tokens.size(0), T = tokens.size(1);
  if (attention_mask.defined()) {
    auto pos = attention_mask.to(torch::kInt64).cumsum(-1) - 1;
    pos.masked_fill_(attention_mask.to(torch::kInt64) == 0, 1);
    ctx.positions = pos.narrow(1, pos.size(1) - T, T);
  } else {
    ctx.positions = torch::arange(past, past + T, torch::kInt64).unsqueeze(0).expand({B, T});
  }
  return ctx;
}

struct Transformer::Impl {
  ModelConfig config;
  SliceSpec slice;
  at::Tensor token_embedding;              // (V,D)
  at::Tensor position_embedding;           // (P,D), gpt2 only
  std::vector<std::optional<Block>> blocks;
  Norm final_norm;
  at::Tensor lm_head;                      // (V,D); the embedding itself when tied

  const Block& block(int i) const {
    if (i < 0 || i >= int(blocks.size()) || !blocks[i])
      throw std::out_of_range("layer " + std::to_string(i) + " is not part of this slice (loaded: [" +
                              std::to_string(slice.first_layer) + ", " + std::to_string(slice.end_layer) + "))");
    return *blocks[i];
  }

  at::Tensor attention(const Block& b, const at::Tensor& x, int layer, ForwardContext& ctx,
                       const at::Tensor& bias, const at::Tensor& cos, const at::Tensor& sin) const {
    const auto& c = config;
    at::Tensor q, k, v;
    if (c.family == Family::Gpt2) {
      auto parts = b[Role::Qkv](x).split(c.hidden_size, -1);
      q = parts[0], k = parts[1], v = parts[2];
    } else {
      q = b[Role::Q](x), k = b[Role::K](x), v = b[Role::V](x);
    }
    q = split_heads(q, c.num_heads, c.head_dim);
    k = split_heads(k, c.num_kv_heads, c.head_dim);
    v = split_heads(v, c.num_kv_heads, c.head_dim);
    if (c.uses_rope()) {
      q = apply_rope(q, cos, sin);
      k = apply_rope(k, cos, sin);
    }
    if (ctx.cache) {
      auto& ck = ctx.cache->keys[layer];
      auto& cv = ctx.cache->values[layer];
      ck = ck.defined() ? torch::cat({ck, k}, 2) : k;
      cv = cv.defined() ? torch::cat({cv, v}, 2) : v;
      k = ck, v = cv;
    }
    if (ctx.external) return b[Role::O](merge_attention(attend_partial(q, k, v, bias), ctx.external->attend(layer, q)));
    return b[Role::O](attend(q, k, v, bias));
  }

  at::Tensor mlp(const Block& b, const at::Tensor& x) const {
    if (config.family == Family::Gpt2) return b[Role::Down](activate(b[Role::Up](x), config.hidden_act));
    // Gate before up, as HF evaluates it: the operands of * are unsequenced in C++, and LoRA dropout draws its
    // masks in the order the modules run.
    const auto gate = activate(b[Role::Gate](x), config.hidden_act);
    return b[Role::Down](gate * b[Role::Up](x));
  }
};

Transformer::Transformer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Transformer::~Transformer() = default;
Transformer::Transformer(Transformer&&) noexcept = default;
Transformer& Transformer::operator=(Transformer&&) noexcept = default;

const ModelConfig& Transformer::config() const { return impl_->config; }
const SliceSpec& Transformer::slice() const { return impl_->slice; }

Transformer Transformer::load(const std::string& dir, const SliceSpec& spec) {
  auto impl = std::make_unique<Impl>();
  impl->config = load_config(dir);
  const ModelConfig& c = impl->config;
  impl->slice = spec;
  SliceSpec& s = impl->slice;
  if (s.end_layer < 0) s.end_layer = c.num_layers;
  if (s.first_layer < 0 || s.first_layer > s.end_layer || s.end_layer > c.num_layers)
    throw std::invalid_argument("slice layers [" + std::to_string(s.first_layer) + ", " +
                                std::to_string(s.end_layer) + ") out of range for a model with " +
                                std::to_string(c.num_layers) + " layers");

  WeightLoader w(dir, c);
  const WeightNames& n = w.names();
  const bool gpt2 = c.family == Family::Gpt2;
  if (s.embedding || (s.head && c.tie_word_embeddings)) impl->token_embedding = w.tensor(n.on_disk(n.embedding()));
  if (s.embedding && gpt2) impl->position_embedding = w.tensor(n.on_disk(n.position_embedding()));
  impl->blocks.resize(c.num_layers);
  for (int i = s.first_layer; i < s.end_layer; ++i) impl->blocks[i] = load_block(w, c, i);
  if (s.head) {
    impl->final_norm = w.norm(n.final_norm(), gpt2, c.norm_eps);
    if (!c.tie_word_embeddings) impl->lm_head = w.tensor(n.on_disk(n.lm_head()));
    else impl->lm_head = impl->token_embedding;
  }
  return Transformer(std::move(impl));
}

at::Tensor Transformer::embed(const at::Tensor& tokens, const ForwardContext& ctx) const {
  const auto& m = *impl_;
  if (!m.token_embedding.defined() || !m.slice.embedding)
    throw std::logic_error("embed: the embedding is not part of this slice");
  auto h = torch::embedding(m.token_embedding, tokens);
  if (m.position_embedding.defined()) h = h + torch::embedding(m.position_embedding, ctx.positions);
  return h;
}

at::Tensor Transformer::forward_layers(at::Tensor hidden, int from, int to, ForwardContext& ctx) const {
  const auto& m = *impl_;
  const auto& c = m.config;
  if (from >= to) return hidden;
  if (ctx.cache && ctx.cache->keys.size() != size_t(c.num_layers)) {
    ctx.cache->keys.resize(c.num_layers);
    ctx.cache->values.resize(c.num_layers);
  }
  const int64_t past = ctx.cache ? ctx.cache->length(from) : 0;
  const auto bias = attention_bias(ctx.attention_mask, past, hidden.size(1), c, hidden.scalar_type());
  at::Tensor cos, sin;
  if (c.uses_rope()) std::tie(cos, sin) = rope_tables(c, ctx.positions, hidden.scalar_type());
  for (int i = from; i < to; ++i) {
    const Block& b = m.block(i);
    hidden = hidden + m.attention(b, b.attn_norm(hidden), i, ctx, bias, cos, sin);
    hidden = hidden + m.mlp(b, b.mlp_norm(hidden));
  }
  return hidden;
}

at::Tensor Transformer::head(const at::Tensor& hidden) const {
  const auto& m = *impl_;
  if (!m.slice.head) throw std::logic_error("head: the head is not part of this slice");
  return torch::nn::functional::linear(m.final_norm(hidden), m.lm_head);
}

at::Tensor Transformer::hidden_states(const at::Tensor& tokens, ForwardContext& ctx) const {
  return forward_layers(embed(tokens, ctx), 0, config().num_layers, ctx);
}

at::Tensor Transformer::forward(const at::Tensor& tokens, ForwardContext& ctx) const {
  return head(hidden_states(tokens, ctx));
}

void Transformer::make_trainable() {
  for (auto& [name, p] : named_parameters()) {
    p.set_data(p.detach().clone());   // same tensor object (tied weights stay tied), owned storage
    p.requires_grad_(true);
  }
}

void Transformer::to(c10::ScalarType dtype) {
  auto tensors = named_parameters();
  if (impl_->lm_head.defined()) tensors.emplace_back("lm_head", impl_->lm_head);   // tied and not listed
  for (auto& [name, t] : tensors) t.set_data(t.detach().to(dtype));   // same tensor objects: ties survive
}

std::vector<std::pair<std::string, at::Tensor>> Transformer::checkpoint_tensors() const {
  const bool conv1d = impl_->config.family == Family::Gpt2;
  std::map<std::string, const Linear*> linears;
  for (const auto& m : linear_modules()) linears[m.name + ".weight"] = m.linear;
  auto out = named_parameters();
  for (auto& [name, t] : out) {
    t = t.detach();
    auto it = linears.find(name);
    if (it == linears.end()) continue;
    if (it->second->adapter) t = it->second->adapter->merged(t);
    if (conv1d) t = t.t().contiguous();
  }
  return out;
}

std::vector<LinearModule> Transformer::linear_modules() const {
  const auto& m = *impl_;
  WeightNames n(m.config);
  std::vector<LinearModule> out;
  for (int i = 0; i < m.config.num_layers; ++i) {
    if (!m.blocks[i]) continue;
    for (Role role : kAllRoles)
      if ((*m.blocks[i])[role].weight.defined()) out.push_back({n.module(i, role), i, role, &(*m.blocks[i])[role]});
  }
  return out;
}

void Transformer::set_adapter(const std::string& module_name, std::shared_ptr<const LinearAdapter> adapter) {
  for (const auto& module : linear_modules()) {
    if (module.name != module_name) continue;
    (*impl_->blocks[module.layer])[module.role].adapter = std::move(adapter);
    return;
  }
  throw std::invalid_argument("no linear module named '" + module_name + "' in the loaded layers");
}

std::vector<std::pair<std::string, at::Tensor>> Transformer::named_parameters() const {
  const auto& m = *impl_;
  const auto& c = m.config;
  WeightNames n(c);
  std::vector<std::pair<std::string, at::Tensor>> out;
  auto add = [&](const std::string& name, const at::Tensor& t) {
    if (t.defined()) out.emplace_back(name, t);
  };
  auto add_linear = [&](const std::string& module, const Linear& l) {
    add(module + ".weight", l.weight);
    add(module + ".bias", l.bias);
  };
  auto add_norm = [&](const std::string& module, const Norm& nm) {
    add(module + ".weight", nm.weight);
    add(module + ".bias", nm.bias);
  };
  if (m.slice.embedding) {
    add(n.embedding(), m.token_embedding);
    add(n.position_embedding(), m.position_embedding);
  }
  for (int i = 0; i < c.num_layers; ++i) {
    if (!m.blocks[i]) continue;
    const Block& b = *m.blocks[i];
    add_norm(n.attn_norm(i), b.attn_norm);
    for (Role role : kAllRoles)
      if (b[role].weight.defined()) add_linear(n.module(i, role), b[role]);
    add_norm(n.mlp_norm(i), b.mlp_norm);
  }
  if (m.slice.head) {
    add_norm(n.final_norm(), m.final_norm);
    if (!c.tie_word_embeddings) add(n.lm_head(), m.lm_head);
  }
  return out;
}

}  // namespace sg::model
