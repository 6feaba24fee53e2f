// SPF: which units it selects (l1 / grad / random, under the density budget), that training it changes only
// those units (every other weight of the merged model bit-identical to the base, also with LoRA alongside),
// and that saved adapters reload to identical logits.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "model/transformer.h"
#include "peft/adapter_files.h"
#include "peft/methods.h"
#include "peft/tiny_model.h"
#include "tensor/safetensors.h"
#include "support/temp_dir.h"
#include "tensor/torch_bridge.h"
#include "train/local_trainer.h"
#include "train/spf_calibration.h"

namespace sg::peft {
namespace {

using model::Role;
using test_util::kHeads;
using test_util::kHidden;
using test_util::kKvHeads;
using test_util::kNeurons;
using test_util::TinyFamily;

constexpr int64_t kHeadDim = kHidden / kHeads;

std::vector<int64_t> to_vector(const at::Tensor& t) {
  auto c = t.to(torch::kInt64).contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

// Sum of |m| over rows [begin, end) of a 2-D tensor, or over columns when `columns`, by plain loops.
double l1_block(const at::Tensor& m, int64_t begin, int64_t end, bool columns = false) {
  auto a = m.to(torch::kFloat64).contiguous();
  auto acc = a.accessor<double, 2>();
  double sum = 0;
  for (int64_t i = 0; i < a.size(0); ++i)
    for (int64_t j = 0; j < a.size(1); ++j) {
      const int64_t unit = columns ? j : i;
      if (unit >= begin && unit < end) sum += std::abs(acc[i][j]);
    }
  return sum;
}

// The `count` best units by score, ascending.
std::vector<int64_t> brute_force_top(const std::vector<double>& scores, int64_t count) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  order.resize(count);
  std::sort(order.begin(), order.end());
  return order;
}

int64_t budget(double density, int64_t units) { return std::max<int64_t>(1, int64_t(std::floor(density * units + 1e-9))); }

std::string layer_prefix(TinyFamily f, int layer) {
  return (f == TinyFamily::Llama ? "model.layers." : "transformer.h.") + std::to_string(layer) + ".";
}

// The material a score reads, per module name: the (out, in) weight (l1) or the calibration gradients (grad).
using Material = std::map<std::string, at::Tensor>;

Material weights_of(const model::Transformer& model) {
  Material out;
  for (const auto& m : model.linear_modules()) out[m.name] = m.linear->weight;
  return out;
}

// Head scores by the definition: |q rows of the head| + (|k rows| + |v rows| of its kv head) / group size
// (gpt2: its rows in the q, k and v blocks of c_attn). Neuron scores: |gate row| + |up row| + |down column|.
std::vector<double> head_scores(TinyFamily f, const Material& w, int layer) {
  const auto p = layer_prefix(f, layer);
  std::vector<double> s(kHeads);
  for (int64_t h = 0; h < kHeads; ++h) {
    if (f == TinyFamily::Gpt2) {
      for (int block = 0; block < 3; ++block)
        s[h] += l1_block(w.at(p + "attn.c_attn"), block * kHidden + h * kHeadDim, block * kHidden + (h + 1) * kHeadDim);
    } else {
      const int64_t groups = kHeads / kKvHeads, kv = h / groups;
      s[h] = l1_block(w.at(p + "self_attn.q_proj"), h * kHeadDim, (h + 1) * kHeadDim) +
             (l1_block(w.at(p + "self_attn.k_proj"), kv * kHeadDim, (kv + 1) * kHeadDim) +
              l1_block(w.at(p + "self_attn.v_proj"), kv * kHeadDim, (kv + 1) * kHeadDim)) / groups;
    }
  }
  return s;
}

std::vector<double> neuron_scores(TinyFamily f, const Material& w, int layer) {
  const auto p = layer_prefix(f, layer);
  std::vector<double> s(kNeurons);
  for (int64_t j = 0; j < kNeurons; ++j) {
    if (f == TinyFamily::Gpt2) {
      s[j] = l1_block(w.at(p + "mlp.c_fc"), j, j + 1) + l1_block(w.at(p + "mlp.c_proj"), j, j + 1, true);
    } else {
      s[j] = l1_block(w.at(p + "mlp.gate_proj"), j, j + 1) + l1_block(w.at(p + "mlp.up_proj"), j, j + 1) +
             l1_block(w.at(p + "mlp.down_proj"), j, j + 1, true);
    }
  }
  return s;
}

// Rows of `heads` in a projection, in head order.
std::vector<int64_t> rows_of(const std::vector<int64_t>& heads, int64_t offset = 0) {
  std::vector<int64_t> rows;
  for (int64_t h : heads)
    for (int64_t e = 0; e < kHeadDim; ++e) rows.push_back(offset + h * kHeadDim + e);
  return rows;
}

// The indices SPF must hold for the given heads and neurons of one layer, by module name.
std::map<std::string, std::vector<int64_t>> expected_indices(TinyFamily f, int layer, const std::vector<int64_t>& heads,
                                                             const std::vector<int64_t>& neurons) {
  const auto p = layer_prefix(f, layer);
  std::map<std::string, std::vector<int64_t>> out;
  if (f == TinyFamily::Gpt2) {
    auto& qkv = out[p + "attn.c_attn"];
    for (int block = 0; block < 3; ++block)
      for (int64_t r : rows_of(heads, block * kHidden)) qkv.push_back(r);
    out[p + "mlp.c_fc"] = out[p + "mlp.c_proj"] = neurons;
  } else {
    std::set<int64_t> kv_heads;
    for (int64_t h : heads) kv_heads.insert(h / (kHeads / kKvHeads));
    out[p + "self_attn.q_proj"] = rows_of(heads);
    out[p + "self_attn.k_proj"] = out[p + "self_attn.v_proj"] = rows_of({kv_heads.begin(), kv_heads.end()});
    out[p + "mlp.gate_proj"] = out[p + "mlp.up_proj"] = out[p + "mlp.down_proj"] = neurons;
  }
  return out;
}

void expect_selection_is_top_scoring(TinyFamily f, const Spf& spf, const Material& material, double density) {
  for (int layer = 0; layer < test_util::kLayers; ++layer) {
    const auto heads = brute_force_top(head_scores(f, material, layer), budget(density, kHeads));
    const auto neurons = brute_force_top(neuron_scores(f, material, layer), budget(density, kNeurons));
    for (const auto& [module, indices] : expected_indices(f, layer, heads, neurons)) {
      ASSERT_TRUE(spf.modules().count(module)) << module;
      EXPECT_EQ(to_vector(spf.modules().at(module)->indices()), indices) << module;
    }
  }
}

class SpfTest : public ::testing::TestWithParam<TinyFamily> {
 protected:
  std::string model_dir() { return test_util::write_tiny_model(tmp_.path(), GetParam()); }
  test_support::TempDir tmp_;
};

TEST_P(SpfTest, L1SelectionPicksTheTopScoringUnits) {
  auto model = model::Transformer::load(model_dir());
  const auto weights = weights_of(model);
  for (double density : {0.25, 0.5}) {
    auto fresh = model::Transformer::load(model_dir());
    SpfConfig config;
    config.density = density;
    auto spf = Spf::attach(fresh, config);
    expect_selection_is_top_scoring(GetParam(), spf, weights, density);
  }
}

TEST_P(SpfTest, DensityBudgetIsRespected) {
  const auto dir = model_dir();
  for (double density : {0.01, 0.1, 0.3, 0.4, 0.6, 0.75, 1.0}) {
    auto model = model::Transformer::load(dir);
    SpfConfig config;
    config.density = density;
    config.score = SpfScore::Random;
    auto spf = Spf::attach(model, config);
    int64_t trainable = 0;
    for (int layer = 0; layer < test_util::kLayers; ++layer) {
      const auto p = layer_prefix(GetParam(), layer);
      const auto q = GetParam() == TinyFamily::Llama ? "self_attn.q_proj" : "attn.c_attn";
      const auto fc = GetParam() == TinyFamily::Llama ? "mlp.up_proj" : "mlp.c_fc";
      const int64_t rows_per_head = GetParam() == TinyFamily::Llama ? kHeadDim : 3 * kHeadDim;
      const int64_t heads = spf.modules().at(p + q)->indices().numel() / rows_per_head;
      const int64_t neurons = spf.modules().at(p + fc)->indices().numel();
      // floor(density * units): never above the budget, except the one unit every layer gets.
      EXPECT_EQ(heads, budget(density, kHeads)) << "density " << density;
      EXPECT_EQ(neurons, budget(density, kNeurons)) << "density " << density;
      EXPECT_TRUE(heads <= density * kHeads + 1e-9 || heads == 1) << "density " << density;
      EXPECT_TRUE(neurons <= density * kNeurons + 1e-9 || neurons == 1) << "density " << density;
    }
    for (const auto& [name, m] : spf.modules()) {
      const auto idx = to_vector(m->indices());
      EXPECT_TRUE(std::is_sorted(idx.begin(), idx.end()) && std::adjacent_find(idx.begin(), idx.end()) == idx.end())
          << name << ": indices must be sorted and unique";
      trainable += m->delta().numel();
    }
    EXPECT_EQ(spf.trainable_parameters(), trainable);
  }
  auto model = model::Transformer::load(dir);
  SpfConfig bad;
  bad.density = 0;
  EXPECT_THROW(Spf::attach(model, bad), std::invalid_argument);
  bad.density = 1.5;
  EXPECT_THROW(Spf::attach(model, bad), std::invalid_argument);
}

TEST_P(SpfTest, GradScoreSelectsTheUnitsWithTheLargestCalibrationGradients) {
  auto model = model::Transformer::load(model_dir());
  const auto gradients = train::calibrate_spf_gradients(model, test_util::random_batches(3, 17), 3);
  for (const auto& m : model.linear_modules()) {
    ASSERT_TRUE(gradients.count(m.name)) << m.name;
    EXPECT_EQ(gradients.at(m.name).sizes(), m.linear->weight.sizes()) << m.name;
    EXPECT_GT(gradients.at(m.name).abs().sum().item<double>(), 0) << m.name;
    EXPECT_FALSE(m.linear->weight.requires_grad()) << m.name << ": calibration must leave the base frozen";
  }
  SpfConfig config;
  config.density = 0.25;
  config.score = SpfScore::Grad;
  EXPECT_THROW(Spf::attach(model, config), std::invalid_argument);   // grad without calibration gradients
  auto spf = Spf::attach(model, config, gradients);
  expect_selection_is_top_scoring(GetParam(), spf, gradients, config.density);

  // The gradient score is not the weight score in disguise: some module's selection differs from l1's.
  auto other = model::Transformer::load(model_dir());
  config.score = SpfScore::L1;
  auto l1 = Spf::attach(other, config);
  bool differs = false;
  for (const auto& [name, m] : spf.modules()) differs |= !torch::equal(m->indices(), l1.modules().at(name)->indices());
  EXPECT_TRUE(differs);
}

TEST_P(SpfTest, RandomScoreDependsOnlyOnTheSeed) {
  const auto dir = model_dir();
  auto select = [&](uint64_t seed) {
    auto model = model::Transformer::load(dir);
    SpfConfig config;
    config.density = 0.25;
    config.score = SpfScore::Random;
    config.seed = seed;
    std::map<std::string, std::vector<int64_t>> out;
    const auto spf = Spf::attach(model, config);
    for (const auto& [name, m] : spf.modules()) out[name] = to_vector(m->indices());
    return out;
  };
  EXPECT_EQ(select(5), select(5));
  EXPECT_NE(select(5), select(6));
}

// Trains `adapters` a few AdamW steps on random batches (enough to move every trainable entry).
void train_a_little(const model::Transformer& model, AdapterSet& adapters) {
  train::TrainOptions options;
  options.max_steps = 3;
  options.optimizer.lr = 1e-2;
  options.log_every = 1000;
  const auto batches = test_util::random_batches(3, 23);
  adapters.set_training(true);
  train::train_local(adapters.parameters(), train::causal_lm_objective(model),
                     [&](int) { return batches; }, options);
  adapters.set_training(false);
}

// The base checkpoint's tensors as stored on disk, read without the model code.
std::map<std::string, at::Tensor> base_tensors(const std::string& dir) {
  tensor::Checkpoint checkpoint(dir);
  std::map<std::string, at::Tensor> out;
  for (const auto& name : checkpoint.tensor_names()) out[name] = tensor::load_tensor(checkpoint, name).clone();
  return out;
}

// Checks the merged model (checkpoint_tensors: HF layout, adapters folded in) against the base file: modules with
// an SPF adapter are bit-identical outside their units and changed in every unit; modules in `lora` are changed;
// every other tensor is bit-identical.
void expect_only_adapted_units_changed(const model::Transformer& model, const std::string& dir, const AdapterSet& set) {
  const bool conv1d = model.config().family == model::Family::Gpt2;   // on disk (in, out): units are transposed
  const auto base = base_tensors(dir);
  const auto merged = model.checkpoint_tensors();
  ASSERT_EQ(merged.size(), base.size());
  int spf_modules = 0, lora_modules = 0;
  for (const auto& [name, tensor] : merged) {
    ASSERT_TRUE(base.count(name)) << name;
    const auto& original = base.at(name);
    ASSERT_EQ(tensor.sizes(), original.sizes()) << name;
    const std::string module = name.substr(0, name.rfind('.'));
    const bool is_weight = name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;
    if (is_weight && set.spf && set.spf->modules().count(module)) {
      ++spf_modules;
      const auto& adapter = *set.spf->modules().at(module);
      // Unit axis in the on-disk layout: rows of (out, in) are dim 0, or dim 1 for Conv1D's (in, out).
      int dim = adapter.axis() == SpfAdapter::Axis::Rows ? 0 : 1;
      if (conv1d) dim = 1 - dim;
      auto selected = torch::zeros({tensor.size(dim)}, torch::kBool);
      selected.index_fill_(0, adapter.indices(), true);
      auto mask = (dim == 0 ? selected.unsqueeze(1) : selected.unsqueeze(0)).expand_as(tensor);
      EXPECT_TRUE(torch::equal(tensor.masked_select(~mask), original.masked_select(~mask)))
          << name << ": a weight outside the selected units changed";
      for (int64_t unit : to_vector(adapter.indices()))
        EXPECT_FALSE(torch::equal(tensor.select(dim, unit), original.select(dim, unit)))
            << name << ": selected unit " << unit << " did not change";
    } else if (is_weight && set.lora && set.lora->modules().count(module)) {
      ++lora_modules;
      EXPECT_FALSE(torch::equal(tensor, original)) << name << ": LoRA did not change the module";
    } else {
      EXPECT_TRUE(torch::equal(tensor, original)) << name << ": not adapted, yet changed";
    }
  }
  EXPECT_EQ(spf_modules, set.spf ? int(set.spf->modules().size()) : 0);
  EXPECT_EQ(lora_modules, set.lora ? int(set.lora->modules().size()) : 0);
  // The frozen base inside the model is never written either.
  for (const auto& [name, t] : model.named_parameters()) {
    auto stored = base.at(name);
    if (conv1d && t.dim() == 2 && name.find(".h.") != std::string::npos) stored = stored.t();
    EXPECT_TRUE(torch::equal(t, stored)) << name << ": the frozen base weight was modified";
  }
}

TEST_P(SpfTest, OutsideSelectedUnitsBitIdentical) {
  const auto dir = model_dir();
  auto model = model::Transformer::load(dir);
  MethodOptions options;
  options.method = "spf";
  options.spf.density = 0.25;
  auto set = attach_method(model, options);
  train_a_little(model, set);
  expect_only_adapted_units_changed(model, dir, set);
}

TEST_P(SpfTest, SpfPlusLoraOutsideSelectedUnitsAndLoraModulesBitIdentical) {
  const auto dir = model_dir();
  auto model = model::Transformer::load(dir);
  MethodOptions options;
  options.method = "spf+lora";
  options.spf.density = 0.25;
  options.lora.dropout = 0.1;
  torch::manual_seed(3);
  auto set = attach_method(model, options);
  ASSERT_TRUE(set.spf && set.lora);
  for (const auto& [name, m] : set.spf->modules()) EXPECT_EQ(set.lora->modules().count(name), 0u) << name;
  train_a_little(model, set);
  expect_only_adapted_units_changed(model, dir, set);
}

TEST_P(SpfTest, SavedAdaptersReloadToIdenticalLogits) {
  const auto dir = model_dir();
  const auto batch = test_util::random_batches(1, 31).front();
  for (const std::string method : {"spf", "spf+lora"}) {
    auto model = model::Transformer::load(dir);
    MethodOptions options;
    options.method = method;
    options.spf.density = 0.5;
    torch::manual_seed(4);
    auto set = attach_method(model, options);
    train_a_little(model, set);
    save_adapters(tmp_ / method, set, dir);

    auto reloaded_model = model::Transformer::load(dir);
    auto reloaded = load_adapters(tmp_ / method, reloaded_model);
    ASSERT_TRUE(reloaded.spf.has_value()) << method;
    EXPECT_EQ(reloaded.lora.has_value(), method == "spf+lora");
    EXPECT_EQ(reloaded.trainable_parameters(), set.trainable_parameters()) << method;
    for (const auto& [name, m] : set.spf->modules()) {
      const auto& r = *reloaded.spf->modules().at(name);
      EXPECT_TRUE(torch::equal(r.indices(), m->indices()) && torch::equal(r.delta(), m->delta())) << name;
    }
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(set.logits(model, batch.input_ids, batch.attention_mask),
                             reloaded.logits(reloaded_model, batch.input_ids, batch.attention_mask)))
        << method;
  }
}

INSTANTIATE_TEST_SUITE_P(Families, SpfTest, ::testing::Values(TinyFamily::Llama, TinyFamily::Gpt2),
                         [](const auto& info) { return test_util::family_name(info.param); });

}  // namespace
}  // namespace sg::peft
