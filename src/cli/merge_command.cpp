// `sliceguard merge`: fold a LoRA / SPF adapter into the base weights and write a Hugging Face checkpoint.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>

#include "cli/commands.h"
#include "model/transformer.h"
#include "peft/adapter_files.h"
#include "tensor/torch_bridge.h"

namespace sg::cli {
namespace {

namespace fs = std::filesystem;

void run_merge(const std::string& model_dir, const std::string& adapter_dir, const std::string& out_dir) {
  auto model = model::Transformer::load(model_dir);
  auto adapters = peft::load_adapters(adapter_dir, model);
  if (adapters.prefix) throw std::invalid_argument(adapter_dir + ": a P-tuning prefix cannot be folded into weights");
  fs::create_directories(out_dir);
  tensor::save_tensors((fs::path(out_dir) / "model.safetensors").string(), model.checkpoint_tensors(), {{"format", "pt"}});
  for (const char* file : {"config.json", "generation_config.json", "tokenizer.json", "tokenizer.model",
                           "tokenizer_config.json", "special_tokens_map.json"}) {
    const auto from = fs::path(model_dir) / file;
    if (fs::exists(from)) fs::copy_file(from, fs::path(out_dir) / file, fs::copy_options::overwrite_existing);
  }
  std::printf("merge: wrote %s\n", out_dir.c_str());
}

}  // namespace

void add_merge_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("merge", "Fold a LoRA/SPF adapter into the weights and write an HF checkpoint");
  auto model_dir = std::make_shared<std::string>(), adapter_dir = std::make_shared<std::string>(),
       out_dir = std::make_shared<std::string>();
  cmd->add_option("--model", *model_dir, "Base checkpoint directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--adapter", *adapter_dir, "Adapter directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--out", *out_dir, "Output checkpoint directory")->required();
  cmd->callback([=] { run_merge(*model_dir, *adapter_dir, *out_dir); });
}

}  // namespace sg::cli
