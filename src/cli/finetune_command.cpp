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
#include "tensor/torch_bridge.h"
#include "runtime/compute_threads.h"
#include "train/finetune.h"

namespace sg::cli {
namespace {

struct FinetuneArgs {
  std::string model_dir, data_path, out_dir, save_batches, dtype = "fp32";
  peft::MethodOptions method;
  std::string spf_score = "l1";
  TrainArgs train;
};

// --save-batches: the micro-batches this run trains on, every epoch in order ("epoch<e>.batch<i>.input_ids",
// ".attention_mask", ".labels"), so another framework can train on exactly the same data (bench/hf_peft.py).
void save_batches(const std::string& path, const train::EpochBatches& batches_for, int epochs) {
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    const auto batches = batches_for(epoch);
    for (size_t i = 0; i < batches.size(); ++i) {
      const auto name = "epoch" + std::to_string(epoch) + ".batch" + std::to_string(i) + ".";
      tensors.emplace_back(name + "input_ids", batches[i].input_ids);
      tensors.emplace_back(name + "attention_mask", batches[i].attention_mask);
      tensors.emplace_back(name + "labels", batches[i].labels);
    }
  }
  tensor::save_tensors(path, tensors, {{"epochs", std::to_string(epochs)}});
}

void run_finetune(FinetuneArgs args) {
  runtime::set_compute_threads(args.train.threads);
  auto tokenizer = model::Tokenizer::load(args.model_dir);
  auto model = model::Transformer::load(args.model_dir);
  if (args.dtype != "fp32" && args.method.method != "lora")
    throw CLI::ValidationError("--dtype", args.dtype + " trains --method lora only (its weights stay fp32); '" +
                                              args.method.method + "' trains in fp32");
  apply_dtype(model, args.dtype);
  auto dataset = data::load_jsonl(args.data_path);
  auto options = args.train.to_options();
  auto batches_for = train::shuffled_epochs(dataset, *tokenizer, args.train.batching());
  if (!args.save_batches.empty()) {
    // Every epoch's micro-batches are trained on only without a step cap and one micro-batch per step.
    if (args.train.max_steps > 0 || args.train.accumulation != 1)
      throw CLI::ValidationError("--save-batches", "needs --epochs without --max-steps and --grad-accum 1");
    save_batches(args.save_batches, batches_for, args.train.epochs);
  }

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
  cmd->add_option("--save-batches", args->save_batches,
                  "Also write the micro-batches of every epoch to this .safetensors file (for side-by-side runs)");
  add_dtype_option(*cmd, args->dtype);
  add_train_options(*cmd, args->train);
  cmd->callback([args] { run_finetune(*args); });
}

}  // namespace sg::cli
