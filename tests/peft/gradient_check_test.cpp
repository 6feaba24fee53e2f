// Autograd gradients of the causal LM loss w.r.t. the adapter parameters (LoRA A and B, SPF deltas, the prefix
// encoder's embedding and projection MLP) equal central finite differences, on a tiny model converted to float64.
// Each tensor is checked along a random direction of its own (all entries at once) and at its largest-gradient entry.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>

#include "model/transformer.h"
#include "peft/adapter_files.h"
#include "peft/methods.h"
#include "peft/tiny_model.h"
#include "support/temp_dir.h"
#include "train/loss.h"

namespace sg::peft {
namespace {

using test_util::TinyFamily;

constexpr double kStep = 1e-6;
constexpr double kTolerance = 1e-6;   // absolute + relative; double FD error here is ~1e-9

// Central difference of `loss` along `direction` of `param` (restored afterwards).
double directional_difference(const std::function<double()>& loss, at::Tensor& param, const at::Tensor& direction) {
  torch::NoGradGuard no_grad;
  const auto saved = param.clone();
  param.add_(direction, kStep);
  const double up = loss();
  param.copy_(saved).sub_(direction, kStep);
  const double down = loss();
  param.copy_(saved);
  return (up - down) / (2 * kStep);
}

void expect_gradients_match_finite_differences(const std::function<at::Tensor()>& loss,
                                               const std::vector<std::pair<std::string, at::Tensor>>& params) {
  for (const auto& [name, p] : params) {
    ASSERT_EQ(p.scalar_type(), torch::kFloat64) << name;
    ASSERT_TRUE(p.requires_grad()) << name;
    p.mutable_grad().reset();
  }
  loss().backward();
  auto value = [&] { return loss().item<double>(); };
  torch::manual_seed(99);
  for (auto [name, p] : params) {
    const auto grad = p.grad().clone();
    ASSERT_GT(grad.abs().max().item<double>(), 0) << name << ": no gradient reaches it";
    const auto direction = torch::randn_like(p);
    const double analytic = (grad * direction).sum().item<double>();
    EXPECT_NEAR(directional_difference(value, p, direction), analytic, kTolerance * (1 + std::abs(analytic)))
        << name << " along a random direction";
    const int64_t peak = grad.abs().argmax().item<int64_t>();
    auto unit = torch::zeros_like(p);
    unit.view({-1})[peak] = 1.0;
    const double entry = grad.view({-1})[peak].item<double>();
    EXPECT_NEAR(directional_difference(value, p, unit), entry, kTolerance * (1 + std::abs(entry)))
        << name << " entry " << peak;
  }
}

class GradientCheck : public ::testing::TestWithParam<TinyFamily> {
 protected:
  void SetUp() override {
    model_.to(torch::kFloat64);
    batch_ = test_util::random_batches(1, 5).front();
  }
  // The loss with dropout masks fixed by re-seeding before every evaluation. Adapters hooked into the model's
  // linear modules (LoRA, SPF) act by themselves; `adapters` adds what enters through the forward pass (a prefix).
  at::Tensor loss(const AdapterSet& adapters = {}) {
    torch::manual_seed(1234);
    auto logits = adapters.logits(model_, batch_.input_ids, batch_.attention_mask);
    EXPECT_EQ(logits.scalar_type(), torch::kFloat64);
    return train::causal_lm_loss(logits, batch_.labels);
  }
  // Random values everywhere (LoRA's B starts at zero, which would leave A without gradient).
  static void randomize(const std::vector<std::pair<std::string, at::Tensor>>& params, double scale) {
    torch::NoGradGuard no_grad;
    for (const auto& [name, p] : params) p.copy_(scale * torch::randn_like(p));
  }

  test_support::TempDir tmp_;
  model::Transformer model_ = model::Transformer::load(test_util::write_tiny_model(tmp_.path(), GetParam()));
  data::Batch batch_;
};

TEST_P(GradientCheck, LoraGradientsMatchFiniteDifferences) {
  LoraConfig config;
  config.r = 3;
  config.alpha = 6;
  config.dropout = 0.2;
  config.target_modules = GetParam() == TinyFamily::Llama
                              ? std::vector<std::string>{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                                         "up_proj", "down_proj"}
                              : std::vector<std::string>{"c_attn", "c_proj", "c_fc"};
  torch::manual_seed(0);
  auto lora = Lora::attach(model_, config);
  lora.set_training(true);   // dropout active (same mask for every evaluation)
  randomize(lora.named_tensors(), 0.3);
  expect_gradients_match_finite_differences([this] { return loss(); }, lora.named_tensors());
}

TEST_P(GradientCheck, SpfGradientsMatchFiniteDifferences) {
  SpfConfig config;
  config.density = 0.5;
  auto spf = Spf::attach(model_, config);
  std::vector<std::pair<std::string, at::Tensor>> deltas;
  for (const auto& [name, t] : spf.named_tensors())
    if (t.is_floating_point()) deltas.emplace_back(name, t);
  randomize(deltas, 0.1);
  expect_gradients_match_finite_differences([this] { return loss(); }, deltas);
}

TEST_P(GradientCheck, SpfPlusLoraGradientsMatchFiniteDifferences) {
  MethodOptions options;
  options.method = "spf+lora";
  options.lora.r = 2;
  options.spf.density = 0.25;
  torch::manual_seed(0);
  auto set = attach_method(model_, options);
  auto params = set.lora->named_tensors();
  for (const auto& [name, t] : set.spf->named_tensors())
    if (t.is_floating_point()) params.emplace_back(name, t);
  randomize(params, 0.2);
  expect_gradients_match_finite_differences([this] { return loss(); }, params);
}

// The prefix enters as the initial KV cache (tiny llama has GQA: kv heads x head dim per token); its tensors are
// created in the model's dtype (float64 here), N(0,1) embedding and nn.Linear-initialised projection.
TEST_P(GradientCheck, PrefixGradientsMatchFiniteDifferences) {
  PrefixConfig config;
  config.num_virtual_tokens = 3;
  torch::manual_seed(0);
  AdapterSet set;
  set.prefix = Prefix::create(model_, config);
  expect_gradients_match_finite_differences([&] { return loss(set); },
                                            {{"embedding.weight", set.prefix->parameters().front()}});
}

TEST_P(GradientCheck, PrefixProjectionGradientsMatchFiniteDifferences) {
  PrefixConfig config;
  config.num_virtual_tokens = 3;
  config.prefix_projection = true;
  config.encoder_hidden_size = 20;
  torch::manual_seed(0);
  AdapterSet set;
  set.prefix = Prefix::create(model_, config);
  const auto p = set.prefix->parameters();
  ASSERT_EQ(p.size(), 5u);
  // PEFT's PrefixEncoder names: embedding -> transform.0 (Linear) -> tanh -> transform.2 (Linear).
  expect_gradients_match_finite_differences([&] { return loss(set); },
                                            {{"embedding.weight", p[0]}, {"transform.0.weight", p[1]},
                                             {"transform.0.bias", p[2]}, {"transform.2.weight", p[3]},
                                             {"transform.2.bias", p[4]}});
}

INSTANTIATE_TEST_SUITE_P(Families, GradientCheck, ::testing::Values(TinyFamily::Llama, TinyFamily::Gpt2),
                         [](const auto& info) { return test_util::family_name(info.param); });

}  // namespace
}  // namespace sg::peft
