// Method 1, client side, with a real `sliceguard enclave` process holding the LoRA pairs or P-tuning's prefix:
// local steps equal local training with the same method, and the adapter never crosses the host<->enclave
// boundary.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>

#include "data/dataset.h"
#include "federated/job.h"
#include "federated/local_steps.h"
#include "federated/remote_adapter.h"
#include "model/generation.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "peft/methods.h"
#include "rpc/tensor_wire.h"
#include "tee/enclave_config.h"
#include "tee/evidence.h"
#include "tee/host_local_session.h"
#include "federated/fixtures.h"
#include "support/temp_dir.h"
#include "train/finetune.h"

namespace sg::federated {
namespace {


ClientJob job() {
  ClientJob j;
  j.lora.r = 8;
  j.lora.alpha = 16;
  j.lora.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
  j.optimizer.lr = 1e-2;
  j.optimizer.warmup_steps = 2;
  j.seed = 5;
  return j;
}

// The client's enclave, and the host's attested session with it (every frame recorded).
struct ClientEnclave {
  test_support::TempDir dir;
  std::unique_ptr<tee::EnclaveProcess> enclave;
  std::unique_ptr<tee::LocalSession> session;
  std::vector<crypto::Bytes> frames;          // sealed, as they cross the boundary
  std::vector<crypto::Envelope> plaintext;    // what the host itself sends and reads back

  explicit ClientEnclave(const ClientJob& job) {
    const std::string key = dir.path() + "/platform.key";
    tee::EnclaveLaunch launch;
    launch.executable = SG_SLICEGUARD;
    const std::string config = dir.path() + "/enclave.json";
    tee::write_enclave_config(config, {.sim_platform_key = key, .job = job.to_json()}).value();
    launch.args = {"enclave", "--backend", "sim", "--config", config};
    enclave = tee::EnclaveProcess::start(launch).value();
    // The owner's policy admits this enclave: its platform key, and the measurement computed offline.
    std::ifstream pub(key + ".pub");
    std::string key_hex;
    pub >> key_hex;
    const auto measurement = [&] {
      FILE* p = ::popen((std::string(SG_SLICEGUARD) + " enclave --backend sim --measure --config " + launch.args[4] +
                         " 2>/dev/null").c_str(), "r");
      char buffer[256] = {};
      std::fgets(buffer, sizeof buffer, p);
      ::pclose(p);
      std::string m(buffer);
      m.erase(m.find_last_not_of("\n") + 1);
      return m;
    }();
    const auto policy = tee::Policy::parse(R"({"allowed_backends":["sim"],"allowed_measurements":[")" + measurement +
                                               R"("],"allow_sim":true,"sim_platform_keys":[")" + key_hex + R"("]})",
                                           "policy").value();
    session = tee::LocalSession::open(*enclave, policy).value();
    session->set_tap([this](crypto::ByteView f) { frames.push_back(f.to_bytes()); });
  }

  Transport transport() {
    return [this](const crypto::Envelope& e) {
      plaintext.push_back(e);
      auto r = session->call(e);
      if (!r) throw std::runtime_error(r.error().message);
      plaintext.push_back(*r);
      return std::move(*r);
    };
  }
};

train::TrainOptions options() {
  train::TrainOptions o;
  o.max_steps = 6;
  o.log_every = 1000;
  return o;
}

ClientJob prefix_job(bool projection) {
  ClientJob j = job();
  j.method = "ptuning";
  j.prefix.num_virtual_tokens = 4;
  j.prefix.prefix_projection = projection;
  return j;
}

peft::MethodOptions method_of(const ClientJob& job) {
  peft::MethodOptions method;
  method.method = job.method;
  method.lora = job.lora;
  method.prefix = job.prefix;
  return method;
}

std::vector<double> local_losses(const ClientJob& job, const data::Dataset& data, const model::Tokenizer& tok) {
  auto model = model::Transformer::load(kModel);
  const auto method = method_of(job);
  auto o = options();
  o.seed = job.seed;
  o.optimizer = job.optimizer;
  return train::finetune(model, method, train::shuffled_epochs(data, tok, batching()), o).result.losses;
}

// With dropout the enclave must draw the same masks as local LoRA in forward, and again when backward recomputes.
class FederatedClientLora : public testing::TestWithParam<double> {};

TEST_P(FederatedClientLora, LocalStepsWithTheAdapterInTheEnclaveEqualLocalLoraTraining) {
  ClientJob lora_job = job();
  lora_job.lora.dropout = GetParam();
  ClientEnclave client(lora_job);
  auto tokenizer = model::Tokenizer::load(kModel);
  const auto data = dataset(0, 48);
  auto model = model::Transformer::load(kModel);
  auto adapter = RemoteAdapter::attach(model, client.transport());
  EXPECT_EQ(adapter->adapted_modules().size(), 4u * 7u);   // 4 layers x 7 projections
  const auto remote =
      train_local_steps(model, *adapter, train::shuffled_epochs(data, *tokenizer, batching()), options()).losses;
  const auto local = local_losses(lora_job, data, *tokenizer);
  ASSERT_EQ(remote.size(), 6u);
  ASSERT_EQ(local.size(), remote.size());
  for (std::size_t i = 0; i < remote.size(); ++i) EXPECT_NEAR(remote[i], local[i], 1e-5) << "step " << i + 1;
  EXPECT_LT(remote.back(), remote.front());
}

INSTANTIATE_TEST_SUITE_P(Dropout, FederatedClientLora, testing::Values(0.0, 0.1));

TEST(FederatedClient, AdapterNeverCrossesTheHostEnclaveBoundary) {
  ClientEnclave client(job());
  auto tokenizer = model::Tokenizer::load(kModel);
  auto model = model::Transformer::load(kModel);
  auto adapter = RemoteAdapter::attach(model, client.transport());
  auto o = options();
  o.max_steps = 2;
  const auto data = dataset(0, 48);
  train_local_steps(model, *adapter, train::shuffled_epochs(data, *tokenizer, batching()), o);
  // The enclave's A matrices as its seeded init made them (B starts at zero, so A is the distinctive one).
  torch::manual_seed(job().seed);
  auto reference = model::Transformer::load(kModel);
  peft::MethodOptions method;
  method.method = "lora";
  method.lora = job().lora;
  auto adapters = peft::attach_method(reference, method);
  ASSERT_GT(client.frames.size(), 10u);
  for (const auto& [name, adapter] : adapters.lora->modules()) {
    const auto needle = rpc::to_wire("a", adapter->a().flatten().narrow(0, 0, 8).contiguous()).data;
    for (const auto& frame : client.frames)
      ASSERT_EQ(std::search(frame.begin(), frame.end(), needle.begin(), needle.end()), frame.end()) << name;
  }
  // Nor can the host fold the adapter into its weights.
  EXPECT_THROW(model.checkpoint_tensors(), std::logic_error);
}

// A client enclave adapting only layer 0's q_proj, driven op by op as its host would.
struct QProjEnclave {
  static constexpr const char* kName = "model.layers.0.self_attn.q_proj";
  ClientEnclave client;

  static ClientJob one_module() {
    ClientJob j = job();
    j.lora.target_modules = {"q_proj"};
    j.optimizer.warmup_steps = 0;
    return j;
  }

  explicit QProjEnclave(const model::Transformer& model) : client(one_module()) {
    std::vector<nlohmann::json> modules;
    for (const auto& m : model.linear_modules())
      modules.push_back({{"name", m.name}, {"layer", m.layer}, {"in", m.linear->weight.size(1)},
                         {"out", m.linear->weight.size(0)}});
    call({{"op", "init"}, {"modules", modules}}, {});
    call({{"op", "begin"}, {"total_steps", 1}}, {});
  }

  crypto::Envelope call(const nlohmann::json& control, std::vector<crypto::Tensor> tensors) {
    return client.transport()({control.dump(), std::move(tensors)});
  }

  // One optimiser step: forward on `forward_input`, backward bringing `backward_input` and `grad`.
  void step(const at::Tensor& forward_input, const at::Tensor& backward_input, const at::Tensor& grad) {
    call({{"op", "micro"}, {"epoch", 0}, {"index", 0}}, {});
    call({{"op", "forward"}, {"call", 0}, {"modules", {kName}}, {"train", true}}, {rpc::to_wire("x", forward_input)});
    call({{"op", "backward"}, {"call", 0}, {"modules", {kName}}},
         {rpc::to_wire("x", backward_input), rpc::to_wire(kName, grad)});
    call({{"op", "step"}, {"loss", 1.0}}, {});
  }

  // The adapter's output for `input` (an inference forward, numbered `call_index`).
  at::Tensor answer(const at::Tensor& input, int call_index) {
    const auto reply = call({{"op", "forward"}, {"call", call_index}, {"modules", {kName}}, {"train", false}},
                            {rpc::to_wire("x", input)});
    return rpc::from_wire(reply, kName, torch::kFloat32, 3);
  }
};

// The enclave keeps no activations between a forward and its backward: the gradients come from the input the
// backward brings. Two enclaves run forward on different inputs and backward on the same one; after a step
// their adapters answer a third input identically. (Were the forward's input kept, B's gradient would differ.)
TEST(FederatedClient, BackwardUsesTheInputItCarriesNotAStoredActivation) {
  auto model = model::Transformer::load(kModel);
  torch::manual_seed(1);
  const auto x1 = torch::randn({2, 5, model.config().hidden_size}), x2 = torch::randn_like(x1),
             x3 = torch::randn_like(x1), grad = torch::randn({2, 5, model.config().hidden_size});
  auto answer_after_step = [&](const at::Tensor& forward_input) {
    QProjEnclave enclave(model);
    enclave.step(forward_input, x2, grad);
    return enclave.answer(x3, 1);
  };
  const auto recomputed = answer_after_step(x1), reference = answer_after_step(x2);
  ASSERT_GT(reference.abs().max().item<float>(), 0.f);   // the step moved B off zero
  EXPECT_TRUE(torch::equal(recomputed, reference));
}

// The stated limit of Method 1 (docs/THREAT_MODEL.md, "query access"): the client's host chooses what its
// enclave's `forward` multiplies, so one call with an identity batch returns the adapter's effective weights
// s·(B·A)^T, with which the host computes the adapter's answer to any input itself. If this ever fails, the
// limit changed and the threat model must say so.
TEST(FederatedClient, TheHostReadsTheAdaptersEffectiveWeightsWithAnIdentityBatch) {
  auto model = model::Transformer::load(kModel);
  const int64_t d = model.config().hidden_size;
  torch::manual_seed(2);
  const auto x = torch::randn({2, 5, d}), grad = torch::randn({2, 5, d}), probe = torch::randn({3, 7, d});
  QProjEnclave enclave(model);
  enclave.step(x, x, grad);   // B is off zero: the adapter now changes the model
  const auto weights = enclave.answer(torch::eye(d).view({1, d, d}), 1)[0];   // s·(B·A)^T, (d_in, d_out)
  ASSERT_GT(weights.abs().max().item<float>(), 0.f);
  const auto answer = enclave.answer(probe, 2);
  EXPECT_LT((torch::matmul(probe, weights) - answer).abs().max().item<float>(), 1e-5f);
}

class FederatedClientPrefix : public testing::TestWithParam<bool> {};   // with / without prefix_projection

TEST_P(FederatedClientPrefix, LocalStepsWithThePrefixInTheEnclaveEqualLocalPTuning) {
  const auto j = prefix_job(GetParam());
  ClientEnclave client(j);
  auto tokenizer = model::Tokenizer::load(kModel);
  const auto data = dataset(0, 48);
  auto model = model::Transformer::load(kModel);
  auto adapter = RemoteAdapter::attach(model, client.transport());
  EXPECT_TRUE(adapter->adapted_modules().empty());
  EXPECT_EQ(adapter->virtual_tokens(), 4);
  const auto remote =
      train_local_steps(model, *adapter, train::shuffled_epochs(data, *tokenizer, batching()), options()).losses;
  const auto local = local_losses(j, data, *tokenizer);
  ASSERT_EQ(remote.size(), 6u);
  ASSERT_EQ(local.size(), remote.size());
  // Equal losses step by step mean the enclave's prefix moved as the local one did (a random N(0,1) prefix
  // first costs loss, so the trend over 6 steps is no check). Relative: local P-tuning attends over prefix and
  // keys in one fused SDPA call, the enclave over each part merged by log-sum-exp, so float32 rounding differs
  // (1.05e-5 on a loss of 5.35 after 6 steps).
  for (std::size_t i = 0; i < remote.size(); ++i)
    EXPECT_NEAR(remote[i], local[i], 1e-5 * std::abs(local[i])) << "step " << i + 1;
  EXPECT_NE(remote.back(), remote.front());
}

INSTANTIATE_TEST_SUITE_P(Projection, FederatedClientPrefix, testing::Bool());

// Scoring a padded batch and generating through the enclave's prefix give what the same prefix gives locally.
TEST(FederatedClient, RemotePrefixScoresAndGeneratesAsTheLocalPrefix) {
  const auto j = prefix_job(false);
  ClientEnclave client(j);
  auto tokenizer = model::Tokenizer::load(kModel);
  auto model = model::Transformer::load(kModel);
  auto adapter = RemoteAdapter::attach(model, client.transport());
  torch::manual_seed(j.seed);   // the enclave's draws
  auto reference = model::Transformer::load(kModel);
  const auto local = peft::attach_method(reference, method_of(j));
  ASSERT_TRUE(local.prefix);

  std::vector<data::EncodedExample> examples;
  for (const auto& e : dataset(0, 3).examples) examples.push_back(data::encode_example(*tokenizer, e.prompt, e.response, 256));
  const auto batch = data::collate(examples, tokenizer->pad_id().value_or(0));
  ASSERT_GT(batch.attention_mask.eq(0).sum().item<int64_t>(), 0) << "the batch should need padding";
  torch::NoGradGuard no_grad;
  const auto mask = batch.attention_mask.to(torch::kBool).unsqueeze(-1);
  const auto remote_logits = adapter->logits(model, batch.input_ids, batch.attention_mask).masked_fill(~mask, 0);
  const auto local_logits = local.logits(reference, batch.input_ids, batch.attention_mask).masked_fill(~mask, 0);
  EXPECT_LT((remote_logits - local_logits).abs().max().item<double>(), 1e-4);

  model::SamplingOptions greedy;
  greedy.max_new_tokens = 8;
  const auto& prompt = examples[0].ids;
  auto cache = local.prefix->initial_cache(1);
  EXPECT_EQ(adapter->generate(model, prompt, greedy), model::generate(reference, prompt, greedy, {}, &cache));
}

TEST(FederatedClient, PrefixNeverCrossesTheHostEnclaveBoundary) {
  const auto j = prefix_job(false);   // no projection: the embedding is the prefix keys and values themselves
  ClientEnclave client(j);
  auto tokenizer = model::Tokenizer::load(kModel);
  auto model = model::Transformer::load(kModel);
  auto adapter = RemoteAdapter::attach(model, client.transport());
  auto o = options();
  o.max_steps = 1;   // forward and backward with the initial prefix, then the enclave's step
  train_local_steps(model, *adapter, train::shuffled_epochs(dataset(0, 16), *tokenizer, batching()), o);

  torch::manual_seed(j.seed);
  auto reference = model::Transformer::load(kModel);
  const auto prefix = peft::attach_method(reference, method_of(j)).prefix->prompt_embeddings().detach();
  // Layer 0's first prefix key (8 floats) and layer 3's last value, as they would look on the wire.
  const auto width = prefix.size(1);
  for (const auto& piece : {prefix[0].narrow(0, 0, 8), prefix[3].narrow(0, width - 8, 8)}) {
    const auto needle = rpc::to_wire("p", piece.contiguous()).data;
    const auto whole = rpc::to_wire("all", prefix.contiguous()).data;   // positive control: the search finds it
    ASSERT_NE(std::search(whole.begin(), whole.end(), needle.begin(), needle.end()), whole.end());
    ASSERT_GT(client.frames.size(), 10u);
    for (const auto& frame : client.frames)
      ASSERT_EQ(std::search(frame.begin(), frame.end(), needle.begin(), needle.end()), frame.end());
    for (const auto& envelope : client.plaintext)
      for (const auto& t : envelope.tensors)
        ASSERT_EQ(std::search(t.data.begin(), t.data.end(), needle.begin(), needle.end()), t.data.end()) << t.meta.name;
  }
}

}  // namespace
}  // namespace sg::federated
