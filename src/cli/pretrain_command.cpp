// `sliceguard pretrain --config FILE`: full-parameter training of a llama-family model from scratch on a text
// corpus, written as a Hugging Face checkpoint (config.json, model.safetensors, tokenizer.json).
// The recipe that makes the bundled model is models/README.md.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "tensor/torch_bridge.h"
#include "runtime/compute_threads.h"
#include "train/local_trainer.h"

namespace sg::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct PretrainConfig {
  json model;                       // config.json fields (model_type llama)
  fs::path tokenizer_dir;           // holds tokenizer.json (+ tokenizer_config.json)
  std::vector<fs::path> corpus;     // text files; each non-empty line is a document
  int64_t seq_len = 128;
  fs::path out;
  TrainArgs train;
};

template <typename T>
T field(const json& j, const std::string& name, const fs::path& file) {
  if (!j.contains(name)) throw std::invalid_argument(file.string() + ": field '" + name + "': is required");
  try {
    return j[name].get<T>();
  } catch (const json::exception&) {
    throw std::invalid_argument(file.string() + ": field '" + name + "': has the wrong type (" + j[name].dump() + ")");
  }
}

PretrainConfig read_config(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error(file.string() + ": cannot open");
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::invalid_argument(file.string() + ": not a JSON object");
  const auto base = file.parent_path();
  PretrainConfig c;
  c.model = field<json>(j, "model", file);
  c.tokenizer_dir = base / field<std::string>(j, "tokenizer_dir", file);
  for (const auto& p : field<std::vector<std::string>>(j, "corpus", file)) c.corpus.push_back(base / p);
  c.seq_len = field<int64_t>(j, "seq_len", file);
  c.out = base / field<std::string>(j, "out", file);
  c.train.max_steps = field<int>(j, "steps", file);
  c.train.batch_size = field<int>(j, "batch_size", file);
  c.train.lr = field<double>(j, "lr", file);
  c.train.warmup_steps = j.value("warmup", 0);
  c.train.weight_decay = j.value("weight_decay", 0.0);
  c.train.seed = j.value("seed", uint64_t(0));
  return c;
}

// One long token stream: every document with BOS ... EOS.
std::vector<int64_t> tokenize_corpus(const PretrainConfig& c, const model::Tokenizer& tokenizer) {
  std::vector<int64_t> stream;
  for (const auto& path : c.corpus) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path.string() + ": cannot open corpus file");
    std::string line;
    while (std::getline(in, line)) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      for (int32_t id : tokenizer.encode(line)) stream.push_back(id);
      if (auto eos = tokenizer.eos_id()) stream.push_back(*eos);
    }
  }
  return stream;
}

// HF's init for llama: N(0, 0.02) for embeddings and linears, ones for norms.
void write_initial_checkpoint(const fs::path& dir, const json& config) {
  const int64_t V = config["vocab_size"], D = config["hidden_size"], F = config["intermediate_size"];
  const int64_t L = config["num_hidden_layers"], H = config["num_attention_heads"];
  const int64_t G = config.value("num_key_value_heads", H), E = D / H;
  auto normal = [](std::vector<int64_t> shape) { return torch::randn(shape) * 0.02; };
  std::vector<std::pair<std::string, at::Tensor>> t = {{"model.embed_tokens.weight", normal({V, D})},
                                                       {"model.norm.weight", torch::ones({D})}};
  if (!config.value("tie_word_embeddings", false)) t.emplace_back("lm_head.weight", normal({V, D}));
  for (int64_t i = 0; i < L; ++i) {
    const std::string p = "model.layers." + std::to_string(i) + ".";
    t.emplace_back(p + "self_attn.q_proj.weight", normal({H * E, D}));
    t.emplace_back(p + "self_attn.k_proj.weight", normal({G * E, D}));
    t.emplace_back(p + "self_attn.v_proj.weight", normal({G * E, D}));
    t.emplace_back(p + "self_attn.o_proj.weight", normal({D, H * E}));
    t.emplace_back(p + "mlp.gate_proj.weight", normal({F, D}));
    t.emplace_back(p + "mlp.up_proj.weight", normal({F, D}));
    t.emplace_back(p + "mlp.down_proj.weight", normal({D, F}));
    t.emplace_back(p + "input_layernorm.weight", torch::ones({D}));
    t.emplace_back(p + "post_attention_layernorm.weight", torch::ones({D}));
  }
  tensor::save_tensors((dir / "model.safetensors").string(), t, {{"format", "pt"}});
}

void run_pretrain(const std::string& config_path) {
  auto c = read_config(config_path);
  runtime::set_compute_threads(c.train.threads);
  torch::manual_seed(c.train.seed);
  auto tokenizer = model::Tokenizer::load(c.tokenizer_dir.string());
  if (c.model.value("model_type", "") != "llama")
    throw std::invalid_argument(config_path + ": field 'model.model_type': pretrain builds llama models");
  c.model["vocab_size"] = tokenizer->vocab_size();
  if (auto bos = tokenizer->bos_id()) c.model["bos_token_id"] = *bos;
  if (auto eos = tokenizer->eos_id()) c.model["eos_token_id"] = *eos;
  c.model["architectures"] = {"LlamaForCausalLM"};
  c.model["torch_dtype"] = "float32";

  fs::create_directories(c.out);
  std::ofstream(c.out / "config.json") << c.model.dump(2) << "\n";
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
    if (fs::exists(c.tokenizer_dir / f)) fs::copy_file(c.tokenizer_dir / f, c.out / f, fs::copy_options::overwrite_existing);
  write_initial_checkpoint(c.out, c.model);

  auto model = model::Transformer::load(c.out.string());
  model.make_trainable();
  const auto stream = tokenize_corpus(c, *tokenizer);
  const int64_t windows = int64_t(stream.size()) - c.seq_len;
  if (windows <= 0) throw std::invalid_argument(config_path + ": the corpus is shorter than seq_len");
  std::fprintf(stderr, "pretrain: %zu corpus tokens, %lld parameters\n", stream.size(),
               static_cast<long long>(model.config().num_parameters()));
  auto corpus = torch::tensor(stream, torch::kInt64);

  // Every "epoch" is steps x batch random windows of the corpus, drawn from the seed.
  auto batches = [&](int epoch) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(c.train.seed + uint64_t(epoch));
    std::vector<data::Batch> out;
    for (int s = 0; s < c.train.max_steps; ++s) {
      auto starts = torch::randint(0, windows, {c.train.batch_size}, gen, torch::kInt64);
      auto offsets = torch::arange(c.seq_len, torch::kInt64);
      auto ids = corpus.index({starts.unsqueeze(1) + offsets});
      out.push_back({ids, torch::ones_like(ids), ids});
    }
    return out;
  };
  std::vector<at::Tensor> params;
  for (auto& [name, p] : model.named_parameters()) params.push_back(p);
  auto options = c.train.to_options();
  auto result = train::train_local(params, train::causal_lm_objective(model), batches, options);

  tensor::save_tensors((c.out / "model.safetensors").string(), model.checkpoint_tensors(), {{"format", "pt"}});
  json generation = {{"bos_token_id", c.model.value("bos_token_id", 0)}, {"eos_token_id", c.model.value("eos_token_id", 0)}};
  std::ofstream(c.out / "generation_config.json") << generation.dump(2) << "\n";
  std::printf("pretrain: %d steps, final loss %.4f, %.1f s, checkpoint in %s\n", result.steps,
              result.losses.empty() ? 0.0 : result.losses.back(), result.seconds, c.out.c_str());
}

}  // namespace

void add_pretrain_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("pretrain", "Train a llama-family model from scratch on a text corpus");
  auto config = std::make_shared<std::string>();
  cmd->add_option("--config", *config, "Pretraining recipe (JSON)")->required()->check(CLI::ExistingFile);
  cmd->callback([config] { run_pretrain(*config); });
}

}  // namespace sg::cli
