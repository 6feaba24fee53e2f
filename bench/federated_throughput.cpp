// Method 1 local steps (LoRA pairs and AdamW in a co-located client enclave, frozen model on the host) vs local
// LoRA training of the same model, data and batches, in one run: each side warmed up once, then local/enclave pairs
// alternating (the order flips from pair to pair), the median pair reported; each side's CPU seconds over the same
// intervals; and the client enclave's memory: at rest (binary, LibTorch, shared ring) and at its peak, beside
// the adapter + optimiser state and the largest call's activations it has to hold.
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <unistd.h>

#include "bench/benches.h"
#include "data/dataset.h"
#include "federated/job.h"
#include "hosts/federated_client_host.h"
#include "federated/local_steps.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "peft/methods.h"
#include "tee/host_enclave_process.h"
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

// CPU seconds a process has used so far, all threads, user + system: /proc/PID/stat fields 14 and 15, counting
// from 1 at the start of the line (field 2, the command name, is in parentheses and may hold spaces).
double cpu_seconds_of(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  std::ifstream stat(path);
  std::string line;
  std::getline(stat, line);
  const auto name_end = line.rfind(')');
  if (name_end == std::string::npos) throw std::runtime_error(path + ": cannot read the process's CPU times");
  std::istringstream fields(line.substr(name_end + 1));
  std::string field;
  int64_t ticks = 0;
  int index = 3;
  for (; index <= 15 && fields >> field; ++index)
    if (index >= 14) ticks += std::stoll(field);
  if (index != 16) throw std::runtime_error(path + ": fewer than 15 fields");
  return double(ticks) / double(sysconf(_SC_CLK_TCK));
}

// CPU seconds of the given processes and wall seconds over one interval, started at construction.
class CpuClock {
 public:
  explicit CpuClock(std::vector<pid_t> pids) : pids_(std::move(pids)), wall_(std::chrono::steady_clock::now()) {
    for (pid_t pid : pids_) start_.push_back(cpu_seconds_of(pid));
  }
  // CPU seconds since construction, per process, in the order given.
  std::vector<double> cpu() const {
    std::vector<double> out;
    for (std::size_t i = 0; i < pids_.size(); ++i) out.push_back(cpu_seconds_of(pids_[i]) - start_[i]);
    return out;
  }
  double wall() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_).count(); }

 private:
  std::vector<pid_t> pids_;
  std::chrono::steady_clock::time_point wall_;
  std::vector<double> start_;
};

int64_t tensor_bytes(const crypto::Envelope& e) {
  int64_t bytes = 0;
  for (const auto& t : e.tensors) bytes += int64_t(t.data.size());
  return bytes;
}

// One local LoRA run: its result and the CPU the process spent on it.
struct LocalRun {
  train::TrainResult result;
  double cpu = 0, wall = 0;   // over the same interval (the training call)
};

// One run with the adapter in a fresh co-located client enclave: its result, the CPU each side spent, the host's
// time in calls, what crossed, and the enclave's memory at rest and at its peak.
struct EnclaveRun {
  train::TrainResult result;
  double host_cpu = 0, enclave_cpu = 0, wall = 0, call_seconds = 0;   // CPU and wall over the training call
  int64_t calls = 0, bytes_crossed = 0, largest_call = 0, state_bytes = 0;
  std::map<std::string, int64_t> at_rest, peak;
};

struct Setup {
  std::string model_dir, sliceguard;
  federated::ClientJob job;
  train::TrainOptions options;
  data::Dataset dataset;
  std::unique_ptr<model::Tokenizer> tokenizer;
  train::EpochBatches batches;   // over dataset, with tokenizer
};

LocalRun run_local(const Setup& s) {
  peft::MethodOptions method;
  method.lora = s.job.lora;
  auto model = model::Transformer::load(s.model_dir);
  const CpuClock clock({getpid()});
  LocalRun run;
  run.result = train::finetune(model, method, s.batches, s.options).result;
  run.cpu = clock.cpu()[0];
  run.wall = clock.wall();
  return run;
}

EnclaveRun run_in_enclave(const Setup& s) {
  EnclaveRun run;
  hosts::FederatedClientOptions own;
  own.enclave.enclave_binary = s.sliceguard;
  own.enclave.state_dir = (fs::temp_directory_path() / "sliceguard_bench_federated").string();
  own.enclave.job_json = s.job.to_json();
  own.around_call = [&run](const crypto::Envelope& request, const rpc::Transport& next) {
    const auto start = std::chrono::steady_clock::now();
    auto reply = next(request);
    run.call_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const int64_t bytes = tensor_bytes(request) + tensor_bytes(reply);
    ++run.calls;
    run.bytes_crossed += bytes;
    run.largest_call = std::max(run.largest_call, bytes);
    return reply;
  };
  hosts::FederatedClientHost host(std::move(own));
  auto& enclave = host.enclave();
  run.at_rest = memory_of(enclave.pid());
  auto model = model::Transformer::load(s.model_dir);
  auto& adapter = host.attach(model);
  const CpuClock clock({getpid(), enclave.pid()});
  run.result = federated::train_local_steps(model, adapter, s.batches, s.options);
  const auto cpu = clock.cpu();
  run.host_cpu = cpu[0];
  run.enclave_cpu = cpu[1];
  run.wall = clock.wall();
  run.peak = memory_of(enclave.pid());
  run.state_bytes = adapter.trainable_parameters() * 4 * 4;   // A, B + their gradients + AdamW's two moments
  return run;
}

double tokens_per_second(const train::TrainResult& r) { return r.tokens / r.seconds; }

// Local and enclave runs alternate, and which goes first flips from pair to pair, so that drift on a shared
// machine (other tenants, clock) touches both sides alike; the pair with the median ratio is reported whole, with
// every pair's ratio beside it.
constexpr int kPairs = 3;
static_assert(kPairs % 2 == 1, "the median pair is the middle one");

nlohmann::json compare(const std::string& model_dir, const std::string& label, int steps,
                       const std::string& sliceguard) {
  Setup s;
  s.model_dir = model_dir;
  s.sliceguard = sliceguard;
  s.job.lora.target_modules = {"q_proj", "k_proj", "v_proj", "o_proj"};
  s.job.optimizer.lr = 3e-3;
  s.job.threads = 1;   // `client --enclave-threads` default: the enclave's work is small, the host keeps the cores
  s.options.max_steps = steps;
  s.options.log_every = 1 << 30;
  s.options.optimizer = s.job.optimizer;
  data::BatchOptions batching;
  batching.batch_size = 16;
  s.dataset = data::load_jsonl(kData);
  s.tokenizer = model::Tokenizer::load(model_dir);
  s.batches = train::shuffled_epochs(s.dataset, *s.tokenizer, batching);

  run_local(s);        // warm-ups, untimed: page in the model and the enclave binary, grow the allocators
  run_in_enclave(s);
  std::vector<std::pair<LocalRun, EnclaveRun>> pairs;
  for (int i = 0; i < kPairs; ++i) {
    if (i % 2 == 0) {
      auto local = run_local(s);
      pairs.emplace_back(std::move(local), run_in_enclave(s));
    } else {
      auto remote = run_in_enclave(s);
      pairs.emplace_back(run_local(s), std::move(remote));
    }
  }
  auto ratio = [](const std::pair<LocalRun, EnclaveRun>& p) {
    return tokens_per_second(p.second.result) / tokens_per_second(p.first.result);
  };
  std::vector<double> ratios;
  for (const auto& p : pairs) ratios.push_back(ratio(p));
  std::sort(pairs.begin(), pairs.end(), [&](const auto& a, const auto& b) { return ratio(a) < ratio(b); });
  const auto& [local, remote] = pairs[kPairs / 2];

  // The ring is the host's memory mapped into the enclave process (outside a hardware enclave's protected memory):
  // the enclave's own memory is its resident set without it.
  const int64_t own_at_rest = remote.at_rest.at("VmRSS") - remote.at_rest.at("RssShmem");
  const int64_t own_peak = remote.peak.at("VmHWM") - remote.peak.at("RssShmem");
  const int64_t goal = remote.state_bytes + remote.largest_call + (int64_t(64) << 20);
  const int micro_batches = steps * s.job.optimizer.accumulation;
  const double enclave_run_cpu = remote.host_cpu + remote.enclave_cpu;
  return {{"model", label},
          {"method", "lora r8 on q,k,v,o"},
          {"steps", steps},
          {"micro_batches", micro_batches},
          {"batch_size", batching.batch_size},
          {"pairs", kPairs},
          {"enclave_over_local_each_pair", ratios},   // in the order they ran (local first in pairs 1, 3, ...)
          {"local_tokens_per_second", tokens_per_second(local.result)},
          {"enclave_tokens_per_second", tokens_per_second(remote.result)},
          {"enclave_over_local", ratio(pairs[kPairs / 2])},
          {"local_seconds", local.result.seconds},
          {"enclave_seconds", remote.result.seconds},
          {"host_seconds_in_calls", remote.call_seconds},   // seal + the enclave's work + open, as the host waits
          // CPU seconds (all threads, user + system) over the same intervals: when both runs keep the cores equally
          // busy, the ratio is what the enclave run's extra work allows, whatever overlaps.
          {"cpu_seconds",
           {{"local", local.cpu},
            {"enclave_run_host", remote.host_cpu},
            {"enclave_run_enclave", remote.enclave_cpu},
            {"local_cores_busy", local.cpu / local.wall},
            {"enclave_run_cores_busy", enclave_run_cpu / remote.wall},
            {"local_over_enclave_run", local.cpu / enclave_run_cpu}}},
          {"round_trips_per_micro_batch", double(remote.calls) / micro_batches},
          {"tensor_bytes_crossing_per_micro_batch", double(remote.bytes_crossed) / micro_batches},
          {"client_enclave_memory",
           {{"at_rest_bytes", own_at_rest},   // after start: the binary and LibTorch, before any work
            {"at_rest_private_bytes", remote.at_rest.at("RssAnon")},
            {"at_rest_code_and_files_bytes", remote.at_rest.at("RssFile")},
            {"peak_bytes", own_peak},
            {"growth_while_training_bytes", own_peak - own_at_rest},
            {"shared_ring_bytes", remote.peak.at("RssShmem")},
            {"adapter_and_optimizer_bytes", remote.state_bytes},
            {"largest_call_activation_bytes", remote.largest_call},
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
