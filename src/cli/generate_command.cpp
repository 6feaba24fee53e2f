// `sliceguard generate`: stream a completion of a prompt from a local checkpoint and report tokens/s.
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "cli/options.h"
#include "model/generation.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"

namespace sg::cli {
namespace {

struct GenerateArgs {
  std::string model_dir;
  std::string prompt;
  model::SamplingOptions sampling;
  int threads = 0;
};

void run_generate(const GenerateArgs& args) {
  set_threads(args.threads);
  auto tokenizer = model::Tokenizer::load(args.model_dir);
  auto transformer = model::Transformer::load(args.model_dir);
  auto options = args.sampling;
  options.stop_tokens = transformer.config().eos_token_ids;
  if (auto eos = tokenizer->eos_id()) options.stop_tokens.push_back(*eos);

  const auto prompt = tokenizer->encode(args.prompt);
  model::TextStream stream(*tokenizer);
  std::cout << args.prompt << std::flush;
  const auto start = std::chrono::steady_clock::now();
  const auto produced = model::generate(transformer, prompt, options, [&](int32_t token) {
    std::cout << stream.push(token) << std::flush;
  });
  std::cout << stream.finish() << "\n";
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "[%zu prompt tokens, %zu new tokens, %.1f tokens/s]\n", prompt.size(), produced.size(),
               produced.size() / std::max(seconds, 1e-9));
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Generate text from a prompt with a local checkpoint");
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
  cmd->callback([args] { run_generate(*args); });
}

}  // namespace sg::cli
