// Method 1 local steps (LoRA pairs and AdamW in a co-located client enclave, frozen model on the host) vs local
// LoRA training of the same model, data and batches, back to back in one run (local warmed up first, as the split
// bench does); and the client enclave's memory: at rest (binary, LibTorch, shared ring) and at its peak, beside
// the adapter + optimiser state and the largest call's activations it has to hold.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

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

// The memory fields of /proc/PID/status, in bytes: VmHWM (peak resident), VmRSS, RssAnon (private),
// RssFile (mapped code and files), RssShmem (here: the host<->enclave ring, memory the host shares).
std::map<std::string, int64_t> memory_of(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::map<std::string, int64_t> out;
  std::string key;
  int64_t kb = 0;
  while (status >> key) {
    if (key == "VmHWM:" || key == "VmRSS:" || key == "RssAnon:" || key == "RssFile:" || key == "RssShmem:") {
      status >> kb;
      out[key.substr(0, key.size() - 1)] = kb * 1024;
    }
    status.ignore(1 << 10, '\n');
  }
  return out;
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

int64_t tensor_bytes(const crypto::Envelope& e) {
  int64_t bytes = 0;
  for (const auto& t : e.tensors) bytes += int64_t(t.data.size());
  return bytes;
}

nlohmann::json compare(const std::string& model_dir, const std::string& label, int steps,
                       const std::string& sliceguard) {
  federated::ClientJob job;
  job.lora.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj"};
  job.optimizer.lr = 3e-3;
  job.threads = 1;   // `client --enclave-threads` default: the enclave's work is small, the host keeps the cores
  train::TrainOptions options;
  options.max_steps = steps;
  options.log_every = 1 << 30;
  options.optimizer = job.optimizer;
  data::BatchOptions batching;
  batching.batch_size = 16;
  auto tokenizer = model::Tokenizer::load(model_dir);
  const auto dataset = data::load_jsonl(kData);
  const auto batches = train::shuffled_epochs(dataset, *tokenizer, batching);

  // Local LoRA, once to warm up (page in the model, grow the allocator), then measured.
  peft::MethodOptions method;
  method.lora = job.lora;
  auto local_once = [&] {
    auto model = model::Transformer::load(model_dir);
    return train::finetune(model, method, batches, options).result;
  };
  local_once();
  const auto local = local_once();

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
  const auto at_rest = memory_of(enclave->pid());
  auto model = model::Transformer::load(model_dir);
  int64_t calls = 0, bytes_crossed = 0, largest_call = 0;
  double call_seconds = 0;
  auto transport = [&](const crypto::Envelope& request) {
    const auto start = std::chrono::steady_clock::now();
    auto reply = session->call(request).value();
    call_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int64_t bytes = tensor_bytes(request) + tensor_bytes(reply);
    ++calls;
    bytes_crossed += bytes;
    largest_call = std::max(largest_call, bytes);
    return reply;
  };
  auto adapter = federated::RemoteAdapter::attach(model, transport);
  const auto remote = federated::train_local_steps(model, *adapter, batches, options);
  const auto peak = memory_of(enclave->pid());
  const int64_t state_bytes = adapter->trainable_parameters() * 4 * 4;   // A, B + their gradients + AdamW's two moments
  (void)enclave->stop();

  const double local_tps = local.tokens / local.seconds, remote_tps = remote.tokens / remote.seconds;
  // The ring is the host's memory mapped into the enclave process (outside a hardware enclave's protected memory):
  // the enclave's own memory is its resident set without it.
  const int64_t own_at_rest = at_rest.at("VmRSS") - at_rest.at("RssShmem");
  const int64_t own_peak = peak.at("VmHWM") - peak.at("RssShmem");
  const int64_t goal = state_bytes + largest_call + (int64_t(64) << 20);
  const int micro_batches = steps * job.optimizer.accumulation;
  return {{"model", label},
          {"method", "lora r8 on q,k,v,o"},
          {"steps", steps},
          {"micro_batches", micro_batches},
          {"batch_size", batching.batch_size},
          {"local_tokens_per_second", local_tps},
          {"enclave_tokens_per_second", remote_tps},
          {"enclave_over_local", remote_tps / local_tps},
          {"local_seconds", local.seconds},
          {"enclave_seconds", remote.seconds},
          {"host_seconds_in_calls", call_seconds},   // seal + the enclave's work + open, as the host waits
          {"round_trips_per_micro_batch", double(calls) / micro_batches},
          {"tensor_bytes_crossing_per_micro_batch", double(bytes_crossed) / micro_batches},
          {"client_enclave_memory",
           {{"at_rest_bytes", own_at_rest},   // after start: the binary and LibTorch, before any work
            {"at_rest_private_bytes", at_rest.at("RssAnon")},
            {"at_rest_code_and_files_bytes", at_rest.at("RssFile")},
            {"peak_bytes", own_peak},
            {"growth_while_training_bytes", own_peak - own_at_rest},
            {"shared_ring_bytes", peak.at("RssShmem")},
            {"adapter_and_optimizer_bytes", state_bytes},
            {"largest_call_activation_bytes", largest_call},
            {"goal_bytes", goal},   // adapter + optimiser + one call's activations + 64 MiB
            {"peak_within_goal", own_peak <= goal},
            {"growth_within_goal", own_peak - own_at_rest <= goal}}},
          {"tee", "sim"}};
}

}  // namespace

nlohmann::json bench_federated(const std::string& sliceguard) {
  nlohmann::json out = nlohmann::json::array();
  out.push_back(compare(kBundled, "sliceguard-med-tiny (4 layers, d256)", 30, sliceguard));
  out.push_back(compare(bench_llama_with_tokenizer(kBundled), "random llama (8 layers, d512)", 10, sliceguard));
  // Wider models cross less per FLOP: the adapter's traffic grows with d, the frozen compute with d^2.
  BenchShape d1024;
  d1024.d_model = 1024;
  d1024.heads = 16;
  d1024.ffn = 2816;
  out.push_back(compare(bench_llama_with_tokenizer(kBundled, d1024), "random llama (8 layers, d1024)", 4, sliceguard));
  return out;
}

}  // namespace sg::bench
