// Method 1 local steps (LoRA pairs and AdamW in a co-located client enclave, frozen model on the host) vs local
// LoRA training of the same model, data and batches, back to back in one run; and the client enclave's peak
// resident memory next to the adapter + optimiser state it holds.
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "bench/benches.h"
#include "data/dataset.h"
#include "federated/job.h"
#include "federated/local_steps.h"
#include "federated/remote_adapter.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "peft/methods.h"
#include "tee/evidence.h"
#include "tee/local_session.h"
#include "train/finetune.h"

namespace sg::bench {
namespace {

namespace fs = std::filesystem;

const std::string kModel = std::string(SG_SOURCE_DIR) + "/models/sliceguard-med-tiny";
const std::string kData = std::string(SG_SOURCE_DIR) + "/data/medical/triage/train.jsonl";

// Peak resident set (VmHWM) of a process, in bytes.
int64_t peak_rss(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  int64_t kb = 0;
  while (status >> key) {
    if (key == "VmHWM:") {
      status >> kb;
      return kb * 1024;
    }
    status.ignore(1 << 10, '\n');
  }
  return -1;
}

// Development policy admitting exactly this sim enclave: its reported measurement and the platform key file.
tee::Policy sim_policy(tee::EnclaveProcess& enclave, const std::string& key_path) {
  std::array<uint8_t, 32> nonce{};
  auto reply = enclave.get_evidence(crypto::ByteView(nonce.data(), nonce.size())).value();
  auto evidence = tee::parse_evidence(reply.evidence).value();
  std::ifstream pub(key_path + ".pub");
  std::string key_hex;
  pub >> key_hex;
  return tee::Policy::parse(R"({"allowed_backends":["sim"],"allowed_measurements":[")" +
                                crypto::to_hex(evidence.measurement) + R"("],"allow_sim":true,"sim_platform_keys":[")" +
                                key_hex + R"("]})",
                            "bench policy")
      .value();
}

}  // namespace

nlohmann::json bench_federated(const std::string& sliceguard) {
  federated::ClientJob job;
  job.lora.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj"};
  job.optimizer.lr = 3e-3;
  job.threads = 1;   // `client --enclave-threads` default: the enclave's work is small, the host keeps the cores
  train::TrainOptions options;
  options.max_steps = 30;
  options.log_every = 1 << 30;
  options.optimizer = job.optimizer;
  data::BatchOptions batching;
  batching.batch_size = 16;
  auto tokenizer = model::Tokenizer::load(kModel);
  const auto dataset = data::load_jsonl(kData);

  // Local LoRA.
  auto local_model = model::Transformer::load(kModel);
  peft::MethodOptions method;
  method.lora = job.lora;
  const auto local = train::finetune(local_model, method, train::shuffled_epochs(dataset, *tokenizer, batching), options).result;

  // The same with the adapter in a co-located client enclave.
  const fs::path dir = fs::temp_directory_path() / "sliceguard_bench_federated";
  fs::create_directories(dir);
  const std::string key = (dir / "platform.key").string();
  std::ofstream(dir / "enclave.json") << R"({"sim_platform_key":")" + key + R"(","job":)" + job.to_json() + "}";
  tee::EnclaveLaunch launch;
  launch.executable = sliceguard;
  launch.args = {"enclave", "--backend", "sim", "--config", (dir / "enclave.json").string()};
  auto enclave = tee::EnclaveProcess::start(launch).value();
  auto session = tee::LocalSession::open(*enclave, sim_policy(*enclave, key)).value();
  auto model = model::Transformer::load(kModel);
  auto adapter = federated::RemoteAdapter::attach(model, [&](const crypto::Envelope& e) { return session->call(e).value(); });
  auto remote = federated::train_local_steps(model, *adapter, train::shuffled_epochs(dataset, *tokenizer, batching), options);
  const int64_t rss = peak_rss(enclave->pid());
  const int64_t state_bytes = adapter->trainable_parameters() * 4 * 4;   // A, B + their gradients + AdamW's two moments
  (void)enclave->stop();

  const double local_tps = local.tokens / local.seconds, remote_tps = remote.tokens / remote.seconds;
  return {{"model", "sliceguard-med-tiny (4 layers, d256)"},
          {"method", "lora r8 on q,k,v,o"},
          {"steps", options.max_steps},
          {"batch_size", batching.batch_size},
          {"local_tokens_per_second", local_tps},
          {"enclave_tokens_per_second", remote_tps},
          {"enclave_over_local", remote_tps / local_tps},
          {"round_trips_per_micro_batch", 2 * 2 * model.config().num_layers + 2},
          {"client_enclave_peak_rss_bytes", rss},
          {"adapter_and_optimizer_bytes", state_bytes},
          {"tee", "sim"}};
}

}  // namespace sg::bench
