// Method 1, client side, with a real `sliceguard enclave` process holding the LoRA pairs: local steps equal
// local LoRA training, and the adapter never crosses the host<->enclave boundary.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <fstream>

#include "data/dataset.h"
#include "federated/job.h"
#include "federated/local_steps.h"
#include "federated/remote_lora.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "peft/methods.h"
#include "split/wire.h"
#include "tee/evidence.h"
#include "tee/local_session.h"
#include "federated/fixtures.h"
#include "tee/temp_dir.h"
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
  tee::testing::TempDir dir;
  std::unique_ptr<tee::EnclaveProcess> enclave;
  std::unique_ptr<tee::LocalSession> session;
  std::vector<crypto::Bytes> frames;

  explicit ClientEnclave(const ClientJob& job) {
    const std::string key = dir.path() + "/platform.key";
    tee::EnclaveLaunch launch;
    launch.executable = SG_SLICEGUARD;
    launch.args = {"enclave", "--backend", "sim", "--config",
                   dir.file("enclave.json", R"({"sim_platform_key":")" + key + R"(","job":)" + job.to_json() + "}")};
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
      auto r = session->call(e);
      if (!r) throw std::runtime_error(r.error().message);
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

std::vector<double> local_lora_losses(const ClientJob& job, const data::Dataset& data, const model::Tokenizer& tok) {
  auto model = model::Transformer::load(kModel);
  peft::MethodOptions method;
  method.lora = job.lora;
  auto o = options();
  o.seed = job.seed;
  o.optimizer = job.optimizer;
  return train::finetune(model, method, train::shuffled_epochs(data, tok, batching()), o).result.losses;
}

TEST(FederatedClient, LocalStepsWithTheAdapterInTheEnclaveEqualLocalLoraTraining) {
  ClientEnclave client(job());
  auto tokenizer = model::Tokenizer::load(kModel);
  const auto data = dataset(0, 48);
  auto model = model::Transformer::load(kModel);
  auto lora = RemoteLora::attach(model, client.transport());
  EXPECT_EQ(lora->adapted_modules().size(), 4u * 7u);   // 4 layers x 7 projections
  const auto remote =
      train_local_steps(model, *lora, train::shuffled_epochs(data, *tokenizer, batching()), options()).losses;
  const auto local = local_lora_losses(job(), data, *tokenizer);
  ASSERT_EQ(remote.size(), 6u);
  ASSERT_EQ(local.size(), remote.size());
  for (std::size_t i = 0; i < remote.size(); ++i) EXPECT_NEAR(remote[i], local[i], 1e-5) << "step " << i + 1;
  EXPECT_LT(remote.back(), remote.front());
}

TEST(FederatedClient, AdapterNeverCrossesTheHostEnclaveBoundary) {
  ClientEnclave client(job());
  auto tokenizer = model::Tokenizer::load(kModel);
  auto model = model::Transformer::load(kModel);
  auto lora = RemoteLora::attach(model, client.transport());
  auto o = options();
  o.max_steps = 2;
  const auto data = dataset(0, 48);
  train_local_steps(model, *lora, train::shuffled_epochs(data, *tokenizer, batching()), o);
  // The enclave's A matrices as its seeded init made them (B starts at zero, so A is the distinctive one).
  torch::manual_seed(job().seed);
  auto reference = model::Transformer::load(kModel);
  peft::MethodOptions method;
  method.method = "lora";
  method.lora = job().lora;
  auto adapters = peft::attach_method(reference, method);
  ASSERT_GT(client.frames.size(), 10u);
  for (const auto& [name, adapter] : adapters.lora->modules()) {
    const auto needle = split::to_wire("a", adapter->a().flatten().narrow(0, 0, 8).contiguous()).data;
    for (const auto& frame : client.frames)
      ASSERT_EQ(std::search(frame.begin(), frame.end(), needle.begin(), needle.end()), frame.end()) << name;
  }
  // Nor can the host fold the adapter into its weights.
  EXPECT_THROW(model.checkpoint_tensors(), std::logic_error);
}

}  // namespace
}  // namespace sg::federated
