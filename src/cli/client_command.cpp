// `sliceguard client`: a data owner's side of split fine-tuning. Loads only the plan's client slice
// (embedding + layers [0, k)), attests the server enclave against the local policy before sending anything,
// trains on local JSONL data — activations and labels leave only as sealed frames for the enclave — and can
// evaluate the split model on local test data.
//
// With a `federated` plan the client runs the whole frozen base model here and launches its own
// enclave, which holds the LoRA pairs and their optimiser and is the end point of the session with the server
// enclave: this process relays that session's sealed frames and never holds the adapter (federated/federation.h).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "cli/eval_report.h"
#include "cli/options.h"
#include "cli/policy_files.h"
#include "eval/evaluate.h"
#include "federated/federation.h"
#include "federated/job.h"
#include "hosts/federated_client_host.h"
#include "hosts/split_client_host.h"
#include "model/generation.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "net/remote_enclave.h"
#include "peft/methods.h"
#include "slicing/plan.h"
#include "tee/attestation_sim.h"
#include "runtime/compute_threads.h"

namespace sg::cli {
namespace {

struct ClientArgs {
  std::string model_dir, plan_path, server, policy_path, data_path, summary_path, identity_path;
  std::vector<std::string> eval_paths;
  train::TrainOptions train;
  data::BatchOptions batching;
  eval::EvalOptions eval;
  int threads = 1;
  int connect_timeout_s = 10;
  bool resume = false;
  std::string tls_ca;
  // federated plans: the client's own enclave and the adapter it holds
  std::string tee = "sim", state_dir = "sliceguard-client", sim_platform_key;
  EnclaveBoundaryArgs boundary;
  std::string peer_policy_path;                   // secure aggregation: the fellow client enclaves ...
  std::vector<std::string> sim_peer_platforms;    // ... or, sim, their platforms' public keys
  federated::ClientJob job;
};

net::ConnectOptions connect_options(const ClientArgs& args) {
  net::ConnectOptions connect;
  connect.server = args.server;
  connect.connect_timeout = std::chrono::seconds(args.connect_timeout_s);
  connect.tls_ca_path = args.tls_ca;
  return connect;
}

void run_federated_client(ClientArgs args) {
  if (args.data_path.empty()) throw CLI::ValidationError("client", "a federated client needs --data");
  runtime::set_compute_threads(args.threads);
  auto tokenizer = model::Tokenizer::load(args.model_dir);
  auto model = model::Transformer::load(args.model_dir);
  auto job = args.job;
  job.seed = args.batching.seed;
  if (job.lora.target_modules.empty()) job.lora.target_modules = peft::attention_targets(model.config());
  hosts::FederatedClientOptions own;
  own.enclave.enclave_binary = std::filesystem::read_symlink("/proc/self/exe").string();
  // Both measured with the job: the host cannot swap them.
  job.server_policy = read_policy_file(args.policy_path);
  if (!args.peer_policy_path.empty())
    job.peer_policy = read_policy_file(args.peer_policy_path);
  else if (!args.sim_peer_platforms.empty())
    job.peer_policy = sim_policy_for_platforms(own.enclave, args.sim_peer_platforms, "--sim-peer-platform");
  if (job.secure_aggregation && job.peer_policy.empty())
    throw CLI::ValidationError("--secure-aggregation", "needs --peer-policy, or with sim --sim-peer-platform for each "
                                                       "other client: the client enclaves this one masks among");
  own.enclave.backend = args.tee;
  apply_enclave_boundary(args.boundary, own.enclave);
  own.enclave.state_dir = args.state_dir;
  own.enclave.job_json = job.to_json();
  own.enclave.sim_platform_key = args.sim_platform_key;
  own.enclave.relay.seal_path = args.state_dir + "/sealed_state.bin";   // the client enclave's state, after every round
  if (args.tee == "sim") spdlog::warn(tee::kSimWarning);
  hosts::FederatedClientHost host(std::move(own));
  auto& adapter = host.attach(model);
  host.connect(connect_options(args));
  const std::string held = job.method == "ptuning" ? "a " + std::to_string(adapter.virtual_tokens()) + "-token prefix"
                                                    : "LoRA on " + std::to_string(adapter.adapted_modules().size()) + " modules";
  std::fprintf(stderr, "client: server enclave attested by the client enclave; %s (%lld parameters, held in the client "
               "enclave)\n", held.c_str(), static_cast<long long>(adapter.trainable_parameters()));

  auto train = args.train;
  train.seed = job.seed;
  const auto result = federated::run_federation(model, adapter, host.link(), data::load_jsonl(args.data_path), *tokenizer,
                                                train, args.batching, host.sealing_state_changes());
  const auto& local = result.local;
  std::printf("client: rounds %d..%d of %d, %d local steps, final loss %.4f, %.0f tokens/s\n", result.first_round + 1,
              result.rounds, result.rounds, local.steps, local.losses.empty() ? 0.0 : local.losses.back(),
              local.tokens / std::max(local.seconds, 1e-9));
  nlohmann::json summary = {{"server", args.server}, {"plan", "federated"}, {"rounds", result.rounds},
                            {"first_round", result.first_round}, {"contributors", result.contributors},
                            {"steps", local.steps}, {"tokens", local.tokens}, {"examples", local.examples},
                            {"seconds", local.seconds}, {"losses", local.losses}};
  if (!args.eval_paths.empty()) {
    eval::Scorer scorer;   // through the remote (global) adapter
    scorer.logits = [&](const at::Tensor& ids, const at::Tensor& mask) { return adapter.logits(model, ids, mask); };
    scorer.greedy = [&](const std::vector<int32_t>& prompt, int max_new, const std::vector<int32_t>& stop) {
      model::SamplingOptions greedy;
      greedy.max_new_tokens = max_new;
      greedy.stop_tokens = stop;
      return adapter.generate(model, prompt, greedy);
    };
    summary["eval"] = evaluate_files(scorer, *tokenizer, args.eval_paths, args.eval);
  }
  if (!args.summary_path.empty()) write_json(args.summary_path, summary);
}

void run_client(ClientArgs args) {
  const auto plan = slicing::SlicePlan::load(args.plan_path);
  if (plan.kind == slicing::PlanKind::Federated) return run_federated_client(std::move(args));
  if (args.data_path.empty() && args.eval_paths.empty())
    throw CLI::ValidationError("client", "give --data (train), --eval (evaluate) or both");
  runtime::set_compute_threads(args.threads);
  auto policy = tee::Policy::load(args.policy_path);
  if (!policy) throw std::runtime_error(policy.error().message);
  auto tokenizer = model::Tokenizer::load(args.model_dir);
  const auto identity = load_client_identity(args.identity_path);

  hosts::SplitClientHost host(args.model_dir, plan, connect_options(args), *policy, identity);
  auto& client = host.client();
  auto& enclave = host.enclave();
  const auto info = client.hello();
  check_state_not_rewound(args.identity_path, crypto::to_hex(enclave.verified().measurement), info.state_generation);
  std::fprintf(stderr, "client: attested enclave %s (%s on layers [%d, L), %lld trainable parameters)\n",
               crypto::to_hex(enclave.verified().measurement).substr(0, 16).c_str(), info.method.c_str(),
               info.cut_layer, static_cast<long long>(info.trainable_parameters));

  nlohmann::json summary = {{"server", args.server}, {"cut_layer", info.cut_layer}, {"method", info.method}};
  if (!args.data_path.empty()) {
    auto dataset = data::load_jsonl(args.data_path);
    auto result = client.train(dataset, *tokenizer, args.train, args.batching, args.resume);
    // The newest state this client saw: a restart on an older sealed blob is refused next time.
    check_state_not_rewound(args.identity_path, crypto::to_hex(enclave.verified().measurement),
                            client.hello().state_generation);
    const auto& t = client.timings();
    summary.update({{"steps", result.steps}, {"tokens", result.tokens}, {"seconds", result.seconds},
                    {"tokens_per_second", result.tokens / std::max(result.seconds, 1e-9)},
                    {"losses", result.losses},
                    {"time", {{"client_compute", t.client_compute}, {"round_trip", t.round_trip},
                              {"enclave_compute", t.enclave_compute}}}});
    std::printf("client: %d steps, final loss %.4f, %.0f tokens/s (front %.1fs, enclave %.1fs, crypto+transport %.1fs)\n",
                result.steps, result.losses.empty() ? 0.0 : result.losses.back(),
                summary["tokens_per_second"].get<double>(), t.client_compute, t.enclave_compute,
                t.round_trip - t.enclave_compute);
  }
  if (!args.eval_paths.empty()) {
    eval::Scorer scorer;
    scorer.logits = [&](const at::Tensor& ids, const at::Tensor& mask) { return client.logits(ids, mask); };
    scorer.greedy = [&](const std::vector<int32_t>& prompt, int max_new, const std::vector<int32_t>& stop) {
      model::SamplingOptions greedy;
      greedy.max_new_tokens = max_new;
      greedy.stop_tokens = stop;
      return model::generate([&](const at::Tensor& input, int64_t past) { return client.next_token_logits(input, past); },
                             prompt, greedy);
    };
    summary["eval"] = evaluate_files(scorer, *tokenizer, args.eval_paths, args.eval);
  }
  if (!args.summary_path.empty()) write_json(args.summary_path, summary);
}

}  // namespace

void add_client_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("client", "Split fine-tuning as a data owner: front layers here, the rest in the server enclave");
  auto args = std::make_shared<ClientArgs>();
  cmd->add_option("--model", args->model_dir, "Checkpoint holding at least the client slice")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--plan", args->plan_path, "Slice plan (JSON), the server's")->required()->check(CLI::ExistingFile);
  cmd->add_option("--server", args->server, "host:port of the server")->required();
  cmd->add_option("--policy", args->policy_path, "Attestation policy the server enclave must satisfy")->required()->check(CLI::ExistingFile);
  cmd->add_option("--identity", args->identity_path,
                  "split: this client's identity key (sliceguard identity --out FILE), enrolled by the server");
  cmd->add_option("--data", args->data_path, "Training JSONL")->check(CLI::ExistingFile);
  cmd->add_option("--eval", args->eval_paths, "Evaluate the split model on these JSONL files (after training)")->check(CLI::ExistingFile);
  cmd->add_option("--summary", args->summary_path, "Write losses, throughput, timings and scores as JSON here");
  cmd->add_option("--epochs", args->train.epochs, "Passes over the data")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--max-steps", args->train.max_steps, "Optimiser steps (overrides --epochs)")->capture_default_str();
  cmd->add_option("--batch-size", args->batching.batch_size, "Examples per micro-batch")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--max-tokens", args->batching.max_tokens, "Truncate examples to this many tokens")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--seed", args->batching.seed, "Seed for the data order")->capture_default_str();
  cmd->add_option("--metrics", args->train.metrics_path, "Append one JSON line per step to this file");
  cmd->add_option("--log-every", args->train.log_every, "Steps between log lines")->capture_default_str();
  cmd->add_option("--limit", args->eval.limit, "Evaluate only the first N examples of each file")->capture_default_str();
  cmd->add_option("--max-new-tokens", args->eval.max_new_tokens, "Generation budget for exact match")->capture_default_str();
  cmd->add_option("--threads", args->threads, "LibTorch threads (0 = all cores)")->capture_default_str();
  cmd->add_option("--tls-ca", args->tls_ca, "Trust roots (PEM) when the server uses TLS")->check(CLI::ExistingFile);
  cmd->add_flag("--resume", args->resume, "Skip the steps the server enclave has already done (after a server restart)");
  cmd->add_option("--connect-timeout", args->connect_timeout_s, "Seconds to wait for the server")->capture_default_str();
  // Federated plans: the client's own enclave and the adapter it holds (LoRA or a prefix).
  auto& job = args->job;
  cmd->add_option("--tee", args->tee, "federated: TEE backend of this client's enclave")
      ->check(CLI::IsMember({"sim", "gramine", "tsm"}))->capture_default_str();
  add_enclave_boundary_options(*cmd, args->boundary);
  cmd->add_option("--state-dir", args->state_dir, "federated: this client's enclave config, sim key and sealed state")->capture_default_str();
  cmd->add_option("--sim-platform-key", args->sim_platform_key,
                  "federated, sim: this client machine's platform key file (default <state-dir>/sim_platform.key; "
                  "the server lists its .pub with --sim-client-platform)");
  cmd->add_option("--method", job.method, "federated: lora | ptuning (P-tuning v2's prefix in the enclave)")
      ->check(CLI::IsMember({"lora", "ptuning"}))->capture_default_str();
  cmd->add_option("--virtual-tokens", job.prefix.num_virtual_tokens, "federated, ptuning: prefix length")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--prefix-projection", job.prefix.prefix_projection, "federated, ptuning: reparameterise the prefix with an MLP");
  cmd->add_option("--lora-r", job.lora.r, "federated: LoRA rank")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--lora-alpha", job.lora.alpha, "federated: LoRA alpha")->capture_default_str();
  cmd->add_option("--lora-dropout", job.lora.dropout, "federated: LoRA dropout")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--target-modules", job.lora.target_modules, "federated: modules to adapt (default: attention projections)")->capture_default_str();
  cmd->add_option("--lr", job.optimizer.lr, "federated: peak learning rate (AdamW, in the enclave)")->capture_default_str();
  cmd->add_option("--warmup", job.optimizer.warmup_steps, "federated: linear warmup steps")->capture_default_str();
  cmd->add_option("--weight-decay", job.optimizer.weight_decay, "federated: AdamW weight decay")->capture_default_str();
  cmd->add_option("--max-grad-norm", job.optimizer.max_grad_norm, "federated: gradient clipping (0 = off)")->capture_default_str();
  cmd->add_option("--grad-accum", job.optimizer.accumulation, "federated: micro-batches per optimiser step")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--min-participants", job.min_participants,
                  "federated, secure aggregation: mask this client's update only among at least this many")
      ->capture_default_str();
  cmd->add_flag("--secure-aggregation", job.secure_aggregation,
                "federated: send the adapter only masked, through secure aggregation (needs --peer-policy or "
                "--sim-peer-platform); a server without it gets nothing");
  cmd->add_option("--peer-policy", args->peer_policy_path,
                  "federated, secure aggregation: the client enclaves this one shares and masks among (without it, "
                  "or --sim-peer-platform, the server could add identities of its own making)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--sim-peer-platform", args->sim_peer_platforms,
                  "federated, secure aggregation, sim: the fellow clients' platform public keys (their "
                  "<state-dir>/sim_platform.key.pub), admitted with this binary as the peer policy");
  cmd->add_option("--enclave-threads", job.threads, "federated: LibTorch threads in the client enclave")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->callback([args] { run_client(*args); });
}

}  // namespace sg::cli
