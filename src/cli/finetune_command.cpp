// `sliceguard finetune`: local fine-tuning with LoRA, P-tuning v2, SPF or SPF+LoRA; writes a PEFT-format adapter.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "data/dataset.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "peft/methods.h"
#include "train/compute_threads.h"
#include "train/finetune.h"

namespace sg::cli {
namespace {

struct FinetuneArgs {
  std::string model_dir, data_path, out_dir;
  peft::MethodOptions method;
  std::string spf_score = "l1";
  TrainArgs train;
};

void run_finetune(FinetuneArgs args) {
  train::set_compute_threads(args.train.threads);
  auto tokenizer = model::Tokenizer::load(args.model_dir);
  auto model = model::Transformer::load(args.model_dir);
  auto dataset = data::load_jsonl(args.data_path);
  auto options = args.train.to_options();
  auto batches_for = train::shuffled_epochs(dataset, *tokenizer, args.train.batching());

  args.method.spf.score = peft::parse_spf_score(args.spf_score);
  args.method.spf.seed = args.train.seed;
  std::fprintf(stderr, "finetune: %s on %zu examples\n", args.method.method.c_str(), dataset.examples.size());
  auto [adapters, result] = train::finetune(model, args.method, batches_for, options);
  std::fprintf(stderr, "finetune: %lld trainable parameters (%.3f%% of %lld)\n",
               static_cast<long long>(adapters.trainable_parameters()),
               100.0 * adapters.trainable_parameters() / model.config().num_parameters(),
               static_cast<long long>(model.config().num_parameters()));
  peft::save_adapters(args.out_dir, adapters, std::filesystem::absolute(args.model_dir).string());

  nlohmann::json summary = {{"method", args.method.method},
                            {"trainable_parameters", adapters.trainable_parameters()},
                            {"steps", result.steps},
                            {"tokens", result.tokens},
                            {"seconds", result.seconds},
                            {"final_loss", result.losses.empty() ? 0.0 : result.losses.back()},
                            {"losses", result.losses}};
  std::ofstream(std::filesystem::path(args.out_dir) / "train_summary.json") << summary.dump(2) << "\n";
  std::printf("finetune: %d steps, final loss %.4f, %.0f tokens/s, adapter in %s\n", result.steps,
              summary["final_loss"].get<double>(), result.tokens / std::max(result.seconds, 1e-9), args.out_dir.c_str());
}

}  // namespace

void add_finetune_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("finetune", "Fine-tune a checkpoint locally with LoRA, P-tuning v2, SPF or SPF+LoRA");
  auto args = std::make_shared<FinetuneArgs>();
  cmd->add_option("--model", args->model_dir, "Base checkpoint directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--data", args->data_path, "Training JSONL")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", args->out_dir, "Adapter output directory")->required();
  cmd->add_option("--method", args->method.method, "lora | ptuning | spf | spf+lora")
      ->check(CLI::IsMember(peft::method_names()))->capture_default_str();
  cmd->add_option("--lora-r", args->method.lora.r, "LoRA rank")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--lora-alpha", args->method.lora.alpha, "LoRA alpha")->capture_default_str();
  cmd->add_option("--lora-dropout", args->method.lora.dropout, "LoRA dropout")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_flag("--rslora", args->method.lora.use_rslora, "Scale by alpha/sqrt(r) (rsLoRA)");
  cmd->add_option("--lora-targets", args->method.lora.target_modules, "Module names (default: attention projections)")
      ->delimiter(',');
  cmd->add_option("--first-layer", args->method.first_layer,
                  "Adapt only layers >= N: the local baseline of a split run cut at layer N")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--virtual-tokens", args->method.prefix.num_virtual_tokens, "P-tuning v2 prefix length")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--prefix-projection", args->method.prefix.prefix_projection, "Reparameterise the prefix with an MLP");
  cmd->add_option("--spf-density", args->method.spf.density, "SPF: fraction of heads/neurons per layer")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--spf-score", args->spf_score, "SPF unit score: l1 | grad | random")
      ->check(CLI::IsMember({"l1", "grad", "random"}))->capture_default_str();
  add_train_options(*cmd, args->train);
  cmd->callback([args] { run_finetune(*args); });
}

}  // namespace sg::cli
