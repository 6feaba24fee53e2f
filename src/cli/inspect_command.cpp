// `sliceguard inspect PATH`: config, parameter count and tensor table of a checkpoint dir or one .safetensors file.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "cli/commands.h"
#include "model/config.h"
#include "tensor/safetensors.h"

namespace sg::cli {
namespace {

std::string shape_text(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  s << "]";
  return s.str();
}

void print_config(const model::ModelConfig& c) {
  std::printf("model_type        %s\n", c.model_type.c_str());
  std::printf("layers            %d\n", c.num_layers);
  std::printf("hidden_size       %lld\n", static_cast<long long>(c.hidden_size));
  std::printf("heads / kv heads  %d / %d (head_dim %lld)\n", c.num_heads, c.num_kv_heads,
              static_cast<long long>(c.head_dim));
  std::printf("intermediate      %lld\n", static_cast<long long>(c.intermediate_size));
  std::printf("vocab             %lld\n", static_cast<long long>(c.vocab_size));
  std::printf("tied embeddings   %s\n", c.tie_word_embeddings ? "yes" : "no");
  std::printf("parameters        %lld (from config)\n", static_cast<long long>(c.num_parameters()));
}

void run_inspect(const std::string& path) {
  const bool is_dir = std::filesystem::is_directory(path);
  if (is_dir && std::filesystem::exists(std::filesystem::path(path) / "config.json"))
    print_config(model::load_config(path));
  tensor::Checkpoint checkpoint(path);
  int64_t total = 0;
  std::printf("\n%-60s %-5s %s\n", "tensor", "dtype", "shape");
  for (const auto& name : checkpoint.tensor_names()) {
    const auto& t = checkpoint.tensor(name);
    total += t.numel();
    std::printf("%-60s %-5s %s\n", name.c_str(), std::string(tensor::dtype_name(t.dtype)).c_str(),
                shape_text(t.shape).c_str());
  }
  std::printf("\n%zu tensors, %lld parameters stored\n", checkpoint.tensor_names().size(),
              static_cast<long long>(total));
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Show a checkpoint's config, parameter count and tensors");
  auto path = std::make_shared<std::string>();
  cmd->add_option("path", *path, "Checkpoint directory or .safetensors file")->required();
  cmd->callback([path] { run_inspect(*path); });
}

}  // namespace sg::cli
