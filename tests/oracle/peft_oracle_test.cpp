// PEFT adapters both ways against Hugging Face `peft` on the tiny model fixtures:
//   PEFT -> SliceGuard: adapters made and saved by peft (make_peft_fixtures.py) load with load_adapters and give
//                       peft's logits on a left/right padded batch.
//   SliceGuard -> PEFT: adapters saved by save_adapters load in peft.PeftModel.from_pretrained (every tensor) and
//                       give our logits (check_peft_load.py, run with the pinned venv's python).
// LoRA and PREFIX_TUNING (P-tuning v2). Prefixes only on bases without GQA (llama_tied_linear_rope, gpt2): PEFT 0.10
// sizes prefixes by num_attention_heads. Both sides number the tokens P..P+T-1 after the prefix, as PEFT does.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>

#include "model/transformer.h"
#include "peft/adapter_files.h"
#include "tensor/safetensors.h"
#include "support/temp_dir.h"
#include "tensor/torch_bridge.h"

namespace sg::peft {
namespace {

constexpr double kLogitTolerance = 1e-4;

std::string env_path(const char* variable) {
  const char* value = std::getenv(variable);
  if (!value) throw std::runtime_error(std::string(variable) + " is not set (run through ctest)");
  return value;
}

struct Batch {
  at::Tensor input_ids, attention_mask, logits;
};

Batch load_batch(const std::string& file) {
  tensor::Checkpoint ref(file);
  return {tensor::load_tensor(ref, "input_ids").clone(), tensor::load_tensor(ref, "attention_mask").clone(),
          tensor::load_tensor(ref, "logits").clone()};
}

// Largest |a - b| over real (unpadded) positions of logits (B,T,V).
double max_diff_on_real_tokens(const at::Tensor& a, const at::Tensor& b, const at::Tensor& mask) {
  auto real = mask.to(torch::kBool).unsqueeze(-1).expand_as(a);
  return (a - b).abs().masked_select(real).max().item<double>();
}

// ---- PEFT -> SliceGuard ----

class PeftToSliceGuardOracle : public ::testing::TestWithParam<std::string> {};

TEST_P(PeftToSliceGuardOracle, AdapterSavedByPeftGivesPeftLogits) {
  const std::string dir = env_path("SG_PEFT_FIXTURES") + "/" + GetParam();
  std::ifstream in(dir + "/reference.json");
  const auto reference = nlohmann::json::parse(in);
  auto model = model::Transformer::load(reference["base"].get<std::string>());
  auto adapters = load_adapters(dir, model);
  const tensor::Checkpoint file(dir + "/adapter_model.safetensors");
  const auto peft_type = reference["peft_type"].get<std::string>();
  if (peft_type == "LORA") {
    ASSERT_TRUE(adapters.lora.has_value());
    // Every tensor in the file was attached: none silently dropped by a name mismatch.
    EXPECT_EQ(2 * adapters.lora->modules().size(), file.tensor_names().size());
  } else {
    ASSERT_EQ(peft_type, "PREFIX_TUNING");
    ASSERT_TRUE(adapters.prefix.has_value());
    ASSERT_EQ(file.tensor_names(), std::vector<std::string>{"prompt_embeddings"});
    EXPECT_EQ(adapters.prefix->config().num_virtual_tokens, 5);
    EXPECT_TRUE(torch::equal(adapters.prefix->prompt_embeddings(), tensor::load_tensor(file, "prompt_embeddings")));
  }

  auto ref = load_batch(dir + "/reference.safetensors");
  torch::NoGradGuard no_grad;
  auto logits = adapters.logits(model, ref.input_ids, ref.attention_mask);
  ASSERT_EQ(logits.sizes(), ref.logits.sizes());
  EXPECT_LE(max_diff_on_real_tokens(logits, ref.logits, ref.attention_mask), kLogitTolerance);
}

INSTANTIATE_TEST_SUITE_P(Adapters, PeftToSliceGuardOracle,
                         ::testing::Values("lora_llama_gqa", "lora_llama_gqa_rslora_regex", "lora_gpt2", "prefix_llama",
                                           "prefix_llama_projection", "prefix_gpt2"));

// ---- SliceGuard -> PEFT ----

struct OutgoingCase {
  std::string base;   // model fixture
  std::optional<LoraConfig> lora;
  std::optional<PrefixConfig> prefix;
};

std::ostream& operator<<(std::ostream& os, const OutgoingCase& c) {
  os << c.base;
  if (c.lora) os << (c.lora->use_rslora ? "_rslora" : "");
  if (c.prefix) os << "_prefix" << (c.prefix->prefix_projection ? "_projection" : "");
  return os;
}

LoraConfig lora_config(std::vector<std::string> targets, bool rslora) {
  LoraConfig c;
  c.r = 4;
  c.alpha = 8;
  c.dropout = 0.05;   // saved in the config; inactive at inference on both sides
  c.use_rslora = rslora;
  c.target_modules = std::move(targets);
  return c;
}

PrefixConfig prefix_config(bool projection) {
  PrefixConfig c;
  c.num_virtual_tokens = 5;
  c.prefix_projection = projection;
  c.encoder_hidden_size = projection ? 48 : 0;
  return c;
}

// Runs `command`, returning its exit status and what it printed (stdout and stderr).
std::pair<int, std::string> run_command(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("popen failed: " + command);
  std::string output;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) output.append(buffer.data(), n);
  const int status = pclose(pipe.release());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

std::string quoted(const std::string& s) { return "'" + s + "'"; }

class SliceGuardToPeftOracle : public ::testing::TestWithParam<OutgoingCase> {};

TEST_P(SliceGuardToPeftOracle, AdapterSavedBySliceGuardLoadsInPeftWithSameLogits) {
  const auto& param = GetParam();
  const std::string base = env_path("SG_MODEL_FIXTURES") + "/" + param.base;
  auto model = model::Transformer::load(base);
  torch::manual_seed(21);
  AdapterSet adapters;
  if (param.lora) {
    adapters.lora = Lora::attach(model, *param.lora);
    torch::NoGradGuard no_grad;   // B starts at zero: random A and B so the adapter changes the logits
    for (auto& t : adapters.lora->parameters()) t.copy_(0.2 * torch::randn(t.sizes()));
  }
  if (param.prefix) adapters.prefix = Prefix::create(model, *param.prefix);   // random already (N(0,1), Linear init)
  auto batch = load_batch(base + "/reference.safetensors");
  at::Tensor logits;
  {
    torch::NoGradGuard no_grad;
    logits = adapters.logits(model, batch.input_ids, batch.attention_mask);
  }

  test_support::TempDir tmp;
  save_adapters(tmp / "adapter", adapters, base);
  tensor::save_tensors(tmp / "ours.safetensors", {{"input_ids", batch.input_ids},
                                                  {"attention_mask", batch.attention_mask},
                                                  {"logits", logits}});
  const std::string script = std::string(SG_SOURCE_DIR) + "/tests/oracle/check_peft_load.py";
  const auto [status, output] = run_command(quoted(env_path("SG_ORACLE_PYTHON")) + " " + quoted(script) + " " +
                                            quoted(base) + " " + quoted(tmp / "adapter") + " " +
                                            quoted(tmp / "ours.safetensors"));
  EXPECT_EQ(status, 0) << output;
}

INSTANTIATE_TEST_SUITE_P(
    Adapters, SliceGuardToPeftOracle,
    ::testing::Values(
        OutgoingCase{"llama_gqa", lora_config({"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj",
                                               "down_proj"}, false), std::nullopt},
        OutgoingCase{"llama_gqa", lora_config({"q_proj", "v_proj"}, true), std::nullopt},
        OutgoingCase{"gpt2", lora_config({"c_attn", "c_proj", "c_fc"}, false), std::nullopt},
        OutgoingCase{"llama_tied_linear_rope", std::nullopt, prefix_config(false)},
        OutgoingCase{"llama_tied_linear_rope", std::nullopt, prefix_config(true)},
        OutgoingCase{"gpt2", std::nullopt, prefix_config(false)}),
    [](const ::testing::TestParamInfo<OutgoingCase>& info) {
      std::ostringstream name;
      name << info.param;
      return name.str();
    });

}  // namespace
}  // namespace sg::peft
