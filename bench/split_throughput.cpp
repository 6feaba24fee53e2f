// Secure split training vs local training, same model, adapters (SPF+LoRA on the server's layers), data and
// batches, measured back to back in one run. Two models: the bundled 3.7M-parameter one (tiny per-step compute,
// so fixed costs show) and the 8-layer d512 llama of bench_model with the bundled tokenizer.
#include <torch/torch.h>

#include <filesystem>
#include <thread>

#include "bench/benches.h"
#include "data/dataset.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "hosts/split_client_host.h"
#include "net/enclave_host.h"
#include "slicing/plan.h"
#include "split/job.h"
#include "split/model_digest.h"
#include "tee/policy.h"
#include "train/finetune.h"

namespace sg::bench {
namespace {

namespace fs = std::filesystem;

struct Run {
  std::string model_dir;
  int cut = 2;
  int steps = 30;
};

split::SplitJob job_for(const Run& run) {
  split::SplitJob job;
  auto& t = job.trainer;
  t.model_dir = run.model_dir;
  t.cut_layer = run.cut;
  t.method.method = "spf+lora";
  t.method.spf.density = 0.1;
  t.optimizer.lr = 3e-3;
  job.threads = at::get_num_threads();
  return job;
}

train::TrainOptions options_for(const Run& run) {
  train::TrainOptions o;
  o.max_steps = run.steps;
  o.log_every = 1 << 30;
  return o;
}

data::BatchOptions batching() {
  data::BatchOptions b;
  b.batch_size = 16;
  return b;
}

nlohmann::json local_run(const Run& run, const split::SplitJob& job, const data::Dataset& dataset,
                         const model::Tokenizer& tokenizer) {
  auto model = model::Transformer::load(run.model_dir);
  auto method = job.trainer.method;
  method.first_layer = run.cut;
  auto options = options_for(run);
  options.seed = job.trainer.seed;
  options.optimizer = job.trainer.optimizer;
  const auto r = train::finetune(model, method, train::shuffled_epochs(dataset, tokenizer, batching()), options).result;
  return {{"tokens_per_second", r.tokens / r.seconds}, {"seconds", r.seconds}, {"tokens", r.tokens}};
}

// `transport`: how the server's host reaches its enclave (ring, or tcp as under Gramine).
nlohmann::json split_run(const Run& run, const split::SplitJob& job, const data::Dataset& dataset,
                         const model::Tokenizer& tokenizer, const std::string& sliceguard, const std::string& transport) {
  const auto identity = crypto::SigningKeyPair::generate();   // the one enrolled client
  auto enrolled = job;
  enrolled.clients = {identity.public_key};
  enrolled.model_digest = split::slice_digest(job.trainer);
  net::HostOptions host;
  host.enclave_binary = sliceguard;
  host.enclave_transport = transport;
  host.state_dir = (fs::temp_directory_path() / "sliceguard_bench_split").string();
  host.job_json = enrolled.to_json();
  host.relay.listen = "127.0.0.1:0";
  auto server = net::EnclaveHost::start(host);
  auto policy = tee::Policy::load(server->sim_client_policy());
  const auto plan = slicing::SlicePlan::parse(R"({"kind":"split","cut_layer":)" + std::to_string(run.cut) + "}", "bench");
  hosts::SplitClientHost client_host(run.model_dir, plan, {.server = server->address()}, policy.value(), identity);
  auto& client = client_host.client();
  auto r = client.train(dataset, tokenizer, options_for(run), batching());
  const auto& t = client.timings();
  const auto& s = client_host.enclave().stats();
  return {{"tokens_per_second", r.tokens / r.seconds},
          {"seconds", r.seconds},
          {"tokens", r.tokens},
          {"time_seconds",
           {{"client_compute", t.client_compute},
            {"enclave_compute", t.enclave_compute},
            {"client_crypto", s.crypto_seconds},
            {"transport_relay_enclave_crypto", t.round_trip - t.enclave_compute - s.crypto_seconds},
            {"other_client", r.seconds - t.client_compute - t.round_trip}}},
          {"frame_bytes_per_step", {{"sent", double(s.bytes_sent) / r.steps}, {"received", double(s.bytes_received) / r.steps}}},
          {"tee", "sim"},
          {"enclave_transport", transport}};
}

nlohmann::json compare(const Run& run, const std::string& label, const std::string& sliceguard) {
  auto tokenizer = model::Tokenizer::load(run.model_dir);
  const auto dataset = data::load_jsonl(kData);
  const auto job = job_for(run);
  local_run(run, job, dataset, *tokenizer);   // warm-up: page in the model, grow the allocator, so order is fair
  auto local = local_run(run, job, dataset, *tokenizer);
  auto split = split_run(run, job, dataset, *tokenizer, sliceguard, "ring");
  auto split_tcp = split_run(run, job, dataset, *tokenizer, sliceguard, "tcp");
  const auto config = model::load_config(run.model_dir);
  return {{"model", label},
          {"parameters", config.num_parameters()},
          {"cut_layer", run.cut},
          {"steps", run.steps},
          {"batch_size", batching().batch_size},
          {"method", "spf+lora on layers [cut, L)"},
          {"local", local},
          {"split", split},
          {"split_over_local", split["tokens_per_second"].get<double>() / local["tokens_per_second"].get<double>()},
          {"split_tcp", split_tcp},
          {"split_tcp_over_split_ring",
           split_tcp["tokens_per_second"].get<double>() / split["tokens_per_second"].get<double>()}};
}

}  // namespace

nlohmann::json bench_split(const std::string& sliceguard) {
  nlohmann::json out = nlohmann::json::array();
  out.push_back(compare({kBundled, 2, 40}, "sliceguard-med-tiny (4 layers, d256)", sliceguard));
  out.push_back(compare({bench_llama_with_tokenizer(kBundled), 4, 15}, "random llama (8 layers, d512)", sliceguard));
  return out;
}

}  // namespace sg::bench
