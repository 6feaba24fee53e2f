#include "peft/spf.h"
#include "peft/lora.h"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "model/transformer.h"

namespace sg::peft {

using model::Role;

SpfScore parse_spf_score(const std::string& name) {
  if (name == "l1") return SpfScore::L1;
  if (name == "grad") return SpfScore::Grad;
  if (name == "random") return SpfScore::Random;
  throw std::invalid_argument("spf score '" + name + "' is not one of l1, grad, random");
}

std::string spf_score_name(SpfScore score) {
  switch (score) {
    case SpfScore::L1: return "l1";
    case SpfScore::Grad: return "grad";
    case SpfScore::Random: return "random";
  }
  return "?";
}

SpfAdapter::SpfAdapter(Axis axis, at::Tensor indices, at::Tensor delta)
    : axis_(axis), indices_(std::move(indices)), delta_(std::move(delta)) {}

at::Tensor SpfAdapter::apply(const at::Tensor& x, const at::Tensor& frozen_output) const {
  if (axis_ == Axis::Rows)   // the selected output features get x @ delta^T added
    return frozen_output.index_add(-1, indices_, torch::nn::functional::linear(x, delta_));
  return frozen_output + torch::nn::functional::linear(x.index_select(-1, indices_), delta_);
}

at::Tensor SpfAdapter::merged(const at::Tensor& frozen_weight) const {
  return frozen_weight.index_add(axis_ == Axis::Rows ? 0 : 1, indices_, delta_.detach());
}

namespace {

SpfAdapter::Axis axis_of(Role role) { return role == Role::Down ? SpfAdapter::Axis::Columns : SpfAdapter::Axis::Rows; }

// The rows of head `h` (width E) in a projection whose heads start at `offset`.
at::Tensor head_rows(int64_t h, int64_t E, int64_t offset = 0) { return torch::arange(offset + h * E, offset + (h + 1) * E); }

// How many of `units` a density allows: floor(density * units), never above the budget, but at least one.
int64_t unit_budget(double density, int64_t units) {
  return std::clamp<int64_t>(int64_t(std::floor(density * double(units) + 1e-9)), 1, units);
}

// The top unit_budget(density, units) of `scores` (units,), as sorted int64 indices.
at::Tensor top_units(const at::Tensor& scores, double density) {
  return std::get<0>(std::get<1>(scores.topk(unit_budget(density, scores.size(0)))).sort());
}

// Per-module material a score reads: |W| for l1, accumulated |grad| for grad.
class UnitScorer {
 public:
  UnitScorer(const SpfConfig& config, const GradientScores& gradients, uint64_t layer_seed)
      : config_(config), gradients_(gradients), generator_(at::make_generator<at::CPUGeneratorImpl>(layer_seed)) {}

  // Sum over axis-slices of `module`: rows (dim 1 summed) or columns (dim 0 summed) -> (units,)
  at::Tensor sums(const model::LinearModule& module, bool rows) const {
    auto magnitude = material(module);
    return rows ? magnitude.sum(1) : magnitude.sum(0);
  }
  at::Tensor random(int64_t units) { return torch::rand({units}, generator_); }
  bool is_random() const { return config_.score == SpfScore::Random; }

 private:
  at::Tensor material(const model::LinearModule& module) const {
    if (config_.score == SpfScore::Grad) {
      auto it = gradients_.find(module.name);
      if (it == gradients_.end())
        throw std::invalid_argument("spf: grad score needs calibration gradients for '" + module.name + "'");
      return it->second.abs();
    }
    return module.linear->weight.detach().abs();
  }
  const SpfConfig& config_;
  const GradientScores& gradients_;
  at::Generator generator_;
};

struct LayerModules {
  std::map<Role, model::LinearModule> by_role;
  const model::LinearModule& operator[](Role r) const { return by_role.at(r); }
  bool has(Role r) const { return by_role.count(r) > 0; }
};

}  // namespace

Spf Spf::attach(model::Transformer& model, const SpfConfig& config, const GradientScores& gradients) {
  if (!(config.density > 0 && config.density <= 1))
    throw std::invalid_argument("spf: density must be in (0, 1], got " + std::to_string(config.density));
  const auto& c = model.config();
  const int64_t E = c.head_dim, H = c.num_heads, groups = c.num_heads / c.num_kv_heads, D = c.hidden_size;
  const bool gpt2 = c.family == model::Family::Gpt2;

  std::map<int, LayerModules> layers;
  for (const auto& m : model.linear_modules())
    if (in_layers(m.layer, config.layers)) layers[m.layer].by_role.emplace(m.role, m);

  Spf spf;
  auto add = [&](const model::LinearModule& m, const at::Tensor& indices) {
    if (m.linear->adapter) throw std::invalid_argument("spf: module '" + m.name + "' already has an adapter");
    const auto& w = m.linear->weight;
    const auto axis = axis_of(m.role);
    auto delta = axis == SpfAdapter::Axis::Rows ? torch::zeros({indices.size(0), w.size(1)}, w.options())
                                                : torch::zeros({w.size(0), indices.size(0)}, w.options());
    delta.requires_grad_(true);
    auto adapter = std::make_shared<SpfAdapter>(axis, indices, delta);
    model.set_adapter(m.name, adapter);
    spf.modules_[m.name] = adapter;
  };

  for (auto& [layer, mods] : layers) {
    UnitScorer scorer(config, gradients, config.seed + uint64_t(layer));
    if (config.heads) {
      at::Tensor scores;
      if (scorer.is_random()) {
        scores = scorer.random(H);
      } else if (gpt2) {   // c_attn rows: [q heads | k heads | v heads]
        auto rows = scorer.sums(mods[Role::Qkv], true).view({3, H, E}).sum(2);
        scores = rows.sum(0);
      } else {
        auto q = scorer.sums(mods[Role::Q], true).view({H, E}).sum(1);
        auto kv = (scorer.sums(mods[Role::K], true) + scorer.sums(mods[Role::V], true)).view({-1, E}).sum(1);
        scores = q + kv.repeat_interleave(groups) / groups;   // a shared kv head counts once per group
      }
      auto heads = top_units(scores, config.density);
      std::vector<at::Tensor> q_rows, kv_rows;
      for (int64_t h : std::vector<int64_t>(heads.data_ptr<int64_t>(), heads.data_ptr<int64_t>() + heads.numel())) {
        q_rows.push_back(head_rows(h, E));
        kv_rows.push_back(head_rows(h / groups, E));
      }
      auto q_idx = torch::cat(q_rows), kv_idx = std::get<0>(torch::_unique(torch::cat(kv_rows), /*sorted=*/true));
      if (gpt2) {
        add(mods[Role::Qkv], torch::cat({q_idx, q_idx + D, q_idx + 2 * D}));
      } else {
        add(mods[Role::Q], q_idx);
        add(mods[Role::K], kv_idx);
        add(mods[Role::V], kv_idx);
      }
    }
    if (config.neurons) {
      const Role in_role = gpt2 ? Role::Up : Role::Gate;
      const int64_t F = mods[in_role].linear->weight.size(0);
      at::Tensor scores = scorer.is_random() ? scorer.random(F)
                                             : scorer.sums(mods[in_role], true) + scorer.sums(mods[Role::Down], false);
      if (!gpt2 && !scorer.is_random()) scores = scores + scorer.sums(mods[Role::Up], true);
      auto neurons = top_units(scores, config.density);
      if (!gpt2) add(mods[Role::Gate], neurons);
      add(mods[Role::Up], neurons);
      add(mods[Role::Down], neurons);
    }
  }
  if (spf.modules_.empty()) throw std::invalid_argument("spf: nothing selected (enable heads or neurons)");
  return spf;
}

Spf Spf::attach_saved(model::Transformer& model, const std::map<std::string, at::Tensor>& tensors) {
  Spf spf;
  for (const auto& m : model.linear_modules()) {
    auto idx = tensors.find(m.name + ".spf_indices");
    auto delta = tensors.find(m.name + ".spf_delta");
    if (idx == tensors.end() && delta == tensors.end()) continue;
    if (idx == tensors.end() || delta == tensors.end())
      throw std::invalid_argument("spf: module '" + m.name + "' needs both spf_indices and spf_delta");
    const auto axis = axis_of(m.role);
    const auto& w = m.linear->weight;
    const auto expected = axis == SpfAdapter::Axis::Rows ? std::vector<int64_t>{idx->second.size(0), w.size(1)}
                                                         : std::vector<int64_t>{w.size(0), idx->second.size(0)};
    if (delta->second.sizes() != at::IntArrayRef(expected))
      throw std::invalid_argument("spf: '" + m.name + ".spf_delta' has shape " + c10::str(delta->second.sizes()) +
                                  ", expected " + c10::str(expected));
    const int64_t limit = axis == SpfAdapter::Axis::Rows ? w.size(0) : w.size(1);
    auto indices = idx->second.to(torch::kInt64);
    if (indices.numel() > 0 && (indices.min().item<int64_t>() < 0 || indices.max().item<int64_t>() >= limit))
      throw std::invalid_argument("spf: '" + m.name + ".spf_indices' has an index outside [0, " +
                                  std::to_string(limit) + ")");
    auto adapter = std::make_shared<SpfAdapter>(axis, indices, delta->second.to(w.scalar_type()).clone().requires_grad_(true));
    model.set_adapter(m.name, adapter);
    spf.modules_[m.name] = adapter;
  }
  if (spf.modules_.empty()) throw std::invalid_argument("spf: the adapter holds no tensor for any loaded module");
  return spf;
}

std::vector<at::Tensor> Spf::parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& [name, m] : modules_) out.push_back(m->delta());
  return out;
}

std::vector<std::pair<std::string, at::Tensor>> Spf::named_tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& [name, m] : modules_) {
    out.emplace_back(name + ".spf_indices", m->indices());
    out.emplace_back(name + ".spf_delta", m->delta());
  }
  return out;
}

int64_t Spf::trainable_parameters() const {
  int64_t n = 0;
  for (const auto& [name, m] : modules_) n += m->delta().numel();
  return n;
}

}  // namespace sg::peft
