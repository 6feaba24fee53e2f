// `sliceguard generate`: stream a completion of a prompt and report tokens/s — from a local checkpoint, or with
// --split through a server enclave that holds the latter layers (KV caches on both sides).
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/options.h"
#include "model/generation.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "hosts/split_client_host.h"
#include "slicing/plan.h"
#include "runtime/compute_threads.h"

namespace sg::cli {
namespace {

struct GenerateArgs {
  std::string model_dir;
  std::string prompt;
  model::SamplingOptions sampling;
  int threads = 0;
  std::string dtype = "fp32";
  bool split = false;
  std::string server, plan_path, policy_path, identity_path;
};

// The split model: this process runs the plan's client slice, the attested enclave the rest.
std::unique_ptr<hosts::SplitClientHost> connect_split(const GenerateArgs& args) {
  if (args.server.empty() || args.plan_path.empty() || args.policy_path.empty())
    throw CLI::ValidationError("generate --split", "needs --server, --plan and --policy");
  auto policy = tee::Policy::load(args.policy_path);
  if (!policy) throw std::runtime_error(policy.error().message);
  const auto identity = load_client_identity(args.identity_path);
  auto host = std::make_unique<hosts::SplitClientHost>(args.model_dir, slicing::SlicePlan::load(args.plan_path),
                                                       net::ConnectOptions{.server = args.server}, *policy, identity);
  host->client().hello();
  return host;
}

void run_generate(const GenerateArgs& args) {
  runtime::set_compute_threads(args.threads);
  auto tokenizer = model::Tokenizer::load(args.model_dir);
  auto options = args.sampling;
  options.stop_tokens = model::load_config(args.model_dir).eos_token_ids;
  if (auto eos = tokenizer->eos_id()) options.stop_tokens.push_back(*eos);
  std::optional<model::Transformer> local;
  std::unique_ptr<hosts::SplitClientHost> split;
  model::NextTokenLogits next_logits;
  if (args.split) {
    if (args.dtype != "fp32")   // the enclave's slice computes in fp32; a half-converted model is not offered
      throw CLI::ValidationError("--dtype", args.dtype + " runs a local model only; --split computes in fp32");
    split = connect_split(args);
    next_logits = [&](const at::Tensor& input, int64_t past) { return split->client().next_token_logits(input, past); };
  } else {
    local.emplace(model::Transformer::load(args.model_dir));
    apply_dtype(*local, args.dtype);
    next_logits = [&, cache = std::make_shared<model::KvCache>()](const at::Tensor& input, int64_t past) {
      auto ctx = model::ForwardContext::for_tokens(input, {}, cache.get(), past);
      return local->forward(input, ctx)[0][-1];
    };
  }

  const auto prompt = tokenizer->encode(args.prompt);
  model::TextStream stream(*tokenizer);
  std::cout << args.prompt << std::flush;
  const auto start = std::chrono::steady_clock::now();
  const auto produced = model::generate(next_logits, prompt, options, [&](int32_t token) {
    std::cout << stream.push(token) << std::flush;
  });
  std::cout << stream.finish() << "\n";
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "[%zu prompt tokens, %zu new tokens, %.1f tokens/s]\n", prompt.size(), produced.size(),
               produced.size() / std::max(seconds, 1e-9));
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Generate text from a prompt, locally or split with a server enclave (--split)");
  auto args = std::make_shared<GenerateArgs>();
  cmd->add_option("--model", args->model_dir, "Checkpoint directory (config.json, safetensors, tokenizer)")
      ->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--prompt", args->prompt, "Prompt text")->required();
  cmd->add_option("--max-new-tokens", args->sampling.max_new_tokens, "Tokens to generate")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--temperature", args->sampling.temperature, "0 = greedy")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--top-k", args->sampling.top_k, "Keep the k most likely tokens (0 = off)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--top-p", args->sampling.top_p, "Nucleus sampling mass (1 = off)")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--seed", args->sampling.seed, "Sampling seed")->capture_default_str();
  cmd->add_option("--threads", args->threads, "LibTorch threads (0 = all cores)")->capture_default_str();
  add_dtype_option(*cmd, args->dtype);
  cmd->add_flag("--split", args->split, "Run the plan's client slice here and the rest in a server enclave");
  cmd->add_option("--server", args->server, "--split: host:port of `sliceguard server`");
  cmd->add_option("--plan", args->plan_path, "--split: the server's slice plan")->check(CLI::ExistingFile);
  cmd->add_option("--policy", args->policy_path, "--split: attestation policy for the server enclave")->check(CLI::ExistingFile);
  cmd->add_option("--identity", args->identity_path, "--split: this client's identity key (sliceguard identity), enrolled by the server");
  cmd->callback([args] { run_generate(*args); });
}

}  // namespace sg::cli
