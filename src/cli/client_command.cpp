// `sliceguard client`: a data owner's side of split fine-tuning (Method 2). Loads only the plan's client slice
// (embedding + layers [0, k)), attests the server enclave against the local policy before sending anything,
// trains on local JSONL data — activations and labels leave only as sealed frames for the enclave — and can
// evaluate the split model on local test data.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>

#include "cli/commands.h"
#include "cli/eval_report.h"
#include "cli/options.h"
#include "model/generation.h"
#include "model/tokenizer/tokenizer.h"
#include "net/remote_enclave.h"
#include "slicing/plan.h"
#include "split/client.h"

namespace sg::cli {
namespace {

struct ClientArgs {
  std::string model_dir, plan_path, server, policy_path, data_path, summary_path;
  std::vector<std::string> eval_paths;
  train::TrainOptions train;
  data::BatchOptions batching;
  eval::EvalOptions eval;
  int threads = 1;
  int connect_timeout_s = 10;
  bool resume = false;
  std::string tls_ca;
};

void run_client(ClientArgs args) {
  if (args.data_path.empty() && args.eval_paths.empty())
    throw CLI::ValidationError("client", "give --data (train), --eval (evaluate) or both");
  set_threads(args.threads);
  const auto plan = slicing::SlicePlan::load(args.plan_path);
  auto policy = tee::Policy::load(args.policy_path);
  if (!policy) throw std::runtime_error(policy.error().message);
  auto tokenizer = model::Tokenizer::load(args.model_dir);

  net::ConnectOptions connect;
  connect.server = args.server;
  connect.connect_timeout = std::chrono::seconds(args.connect_timeout_s);
  connect.tls_ca_path = args.tls_ca;
  auto enclave = net::RemoteEnclave::connect(connect, *policy);
  split::SplitClient client(args.model_dir, plan, [&](const crypto::Envelope& e) { return enclave->call(e); });
  const auto info = client.hello();
  std::fprintf(stderr, "client: attested enclave %s (%s on layers [%d, L), %lld trainable parameters)\n",
               crypto::to_hex(enclave->verified().measurement).substr(0, 16).c_str(), info.method.c_str(),
               info.cut_layer, static_cast<long long>(info.trainable_parameters));

  nlohmann::json summary = {{"server", args.server}, {"cut_layer", info.cut_layer}, {"method", info.method}};
  if (!args.data_path.empty()) {
    auto dataset = data::load_jsonl(args.data_path);
    auto result = client.train(dataset, *tokenizer, args.train, args.batching, args.resume);
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
  cmd->callback([args] { run_client(*args); });
}

}  // namespace sg::cli
