// LoRA on a bf16 model (`--dtype bf16`): the frozen weights compute in bf16, the trained A and B stay fp32 (the
// master copy the optimiser updates), and their gradients agree with the fp32 model's to bf16 precision.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "model/transformer.h"
#include "peft/lora.h"
#include "peft/tiny_model.h"
#include "support/temp_dir.h"
#include "train/loss.h"

namespace sg::peft {
namespace {

using test_util::TinyFamily;

// bf16 keeps 8 significant bits; through 2 layers the gradients' relative error stays around 1e-2.
constexpr double kRelativeTolerance = 5e-2;

struct Gradients {
  std::vector<at::Tensor> grads;
  c10::ScalarType parameter_dtype, logits_dtype;
};

Gradients lora_gradients(const std::string& dir, c10::ScalarType model_dtype, const data::Batch& batch) {
  auto model = model::Transformer::load(dir);
  model.to(model_dtype);
  LoraConfig config;
  config.r = 4;
  config.alpha = 8;
  config.target_modules = {"q_proj", "v_proj", "down_proj"};
  torch::manual_seed(0);
  auto lora = Lora::attach(model, config);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : lora.parameters()) p.copy_(0.3 * torch::randn_like(p));   // B nonzero, so A gets a gradient
  }
  auto ctx = model::ForwardContext::for_tokens(batch.input_ids, batch.attention_mask);
  auto logits = model.forward(batch.input_ids, ctx);
  train::causal_lm_loss(logits, batch.labels).backward();
  Gradients g{{}, lora.parameters().front().scalar_type(), logits.scalar_type()};
  for (const auto& p : lora.parameters()) g.grads.push_back(p.grad().clone());
  return g;
}

TEST(Bf16Lora, MasterWeightsStayFp32AndGradientsMatchFp32) {
  test_support::TempDir tmp;
  const auto dir = test_util::write_tiny_model(tmp.path(), TinyFamily::Llama);
  const auto batch = test_util::random_batches(1, 5).front();
  const auto fp32 = lora_gradients(dir, torch::kFloat32, batch);
  const auto bf16 = lora_gradients(dir, torch::kBFloat16, batch);
  EXPECT_EQ(bf16.parameter_dtype, torch::kFloat32);
  EXPECT_EQ(bf16.logits_dtype, torch::kBFloat16);
  ASSERT_EQ(fp32.grads.size(), bf16.grads.size());
  for (size_t i = 0; i < fp32.grads.size(); ++i) {
    ASSERT_EQ(bf16.grads[i].scalar_type(), torch::kFloat32);
    const double scale = fp32.grads[i].abs().max().item<double>();
    ASSERT_GT(scale, 0) << "parameter " << i << " has no gradient";
    EXPECT_LE((bf16.grads[i] - fp32.grads[i]).abs().max().item<double>(), kRelativeTolerance * scale)
        << "parameter " << i;
  }
}

}  // namespace
}  // namespace sg::peft
