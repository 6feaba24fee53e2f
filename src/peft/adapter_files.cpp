#include "peft/adapter_files.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "model/transformer.h"
#include "tensor/safetensors.h"
#include "tensor/torch_bridge.h"

namespace sg::peft {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPrefix = "base_model.model.";

[[noreturn]] void fail(const fs::path& file, const std::string& field, const std::string& problem) {
  throw std::invalid_argument(file.string() + ": field '" + field + "': " + problem);
}

json read_json(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw std::invalid_argument(file.string() + ": cannot open");
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::invalid_argument(file.string() + ": not a JSON object");
  return j;
}

// Module tensors carry PEFT's "base_model.model." prefix; prompt-learning tensors ("prompt_embeddings") none.
void write_tensors(const fs::path& file, const std::vector<std::pair<std::string, at::Tensor>>& named,
                   bool module_prefix = true) {
  std::vector<std::pair<std::string, at::Tensor>> prefixed;
  for (const auto& [name, t] : named) prefixed.emplace_back((module_prefix ? kPrefix : "") + name, t.detach());
  tensor::save_tensors(file.string(), prefixed, {{"format", "pt"}});
}

// Tensors of an adapter file keyed without the PEFT prefix (and without an adapter name, as PEFT saves).
std::map<std::string, at::Tensor> read_tensors(const fs::path& file) {
  tensor::Checkpoint checkpoint(file.string());
  std::map<std::string, at::Tensor> out;
  for (const auto& name : checkpoint.tensor_names()) {
    std::string key = name.rfind(kPrefix, 0) == 0 ? name.substr(std::string(kPrefix).size()) : name;
    out[key] = tensor::load_tensor(checkpoint, name);
  }
  return out;
}

// PEFT's matching: a list matches by exact name or "."-suffix; a string is a regex that must match fully.
std::vector<std::string> resolve_targets(const json& targets, const fs::path& file, const model::Transformer& model) {
  if (targets.is_array()) return targets.get<std::vector<std::string>>();
  if (!targets.is_string()) fail(file, "target_modules", "expected a list of names or a regex string");
  const std::regex pattern(targets.get<std::string>());
  std::vector<std::string> names;
  for (const auto& m : model.linear_modules())
    if (std::regex_match(m.name, pattern)) names.push_back(m.name);
  return names;
}

// PEFT's layers_to_transform: null, an integer or a list of integers, each a layer of the model.
std::vector<int> read_layers(const fs::path& file, const json& j, const model::Transformer& model) {
  if (!j.contains("layers_to_transform") || j["layers_to_transform"].is_null()) return {};
  const json& v = j["layers_to_transform"];
  std::vector<int> layers;
  for (const json& item : v.is_array() ? v : json::array({v})) {
    if (!item.is_number_integer() || item.get<int>() < 0 || item.get<int>() >= model.config().num_layers)
      fail(file, "layers_to_transform", "expected layer indices in [0, " + std::to_string(model.config().num_layers) + ")");
    layers.push_back(item.get<int>());
  }
  if (j.contains("layers_pattern") && !j["layers_pattern"].is_null() && !j["layers_pattern"].empty() &&
      j["layers_pattern"] != "layers" && j["layers_pattern"] != "h")
    fail(file, "layers_pattern", "expected \"layers\" or \"h\"");
  return layers;
}

LoraConfig read_lora_config(const fs::path& file, const json& j, const model::Transformer& model) {
  if (j.value("use_dora", false)) fail(file, "use_dora", "DoRA is not supported");
  if (j.value("bias", std::string("none")) != "none") fail(file, "bias", "only \"none\" is supported");
  for (const char* pattern : {"rank_pattern", "alpha_pattern"})
    if (j.contains(pattern) && !j[pattern].is_null() && !j[pattern].empty()) fail(file, pattern, "per-module patterns are not supported");
  if (j.contains("modules_to_save") && !j["modules_to_save"].is_null() && !j["modules_to_save"].empty())
    fail(file, "modules_to_save", "not supported");
  LoraConfig c;
  if (!j.contains("r") || !j["r"].is_number_integer()) fail(file, "r", "expected an integer");
  c.r = j["r"].get<int>();
  c.alpha = j.value("lora_alpha", 8.0);
  c.dropout = j.value("lora_dropout", 0.0);
  c.use_rslora = j.value("use_rslora", false);
  if (!j.contains("target_modules")) fail(file, "target_modules", "is required");
  c.target_modules = resolve_targets(j["target_modules"], file, model);
  c.layers_to_transform = read_layers(file, j, model);
  return c;
}

}  // namespace

std::vector<at::Tensor> AdapterSet::parameters() const {
  std::vector<at::Tensor> out;
  if (lora) out = lora->parameters();
  if (prefix)
    for (auto& t : prefix->parameters()) out.push_back(t);
  if (spf)
    for (auto& t : spf->parameters()) out.push_back(t);
  return out;
}

int64_t AdapterSet::trainable_parameters() const {
  int64_t n = 0;
  for (const auto& t : parameters()) n += t.numel();
  return n;
}

void AdapterSet::set_training(bool training) {
  if (lora) lora->set_training(training);
}

at::Tensor AdapterSet::logits(const model::Transformer& model, const at::Tensor& input_ids,
                              const at::Tensor& attention_mask) const {
  return model.head(hidden_states(model, input_ids, attention_mask));
}

at::Tensor AdapterSet::hidden_states(const model::Transformer& model, const at::Tensor& input_ids,
                                     const at::Tensor& attention_mask) const {
  if (prefix) {
    model::KvCache cache;
    auto ctx = prefix->context(input_ids, attention_mask, cache);
    return model.hidden_states(input_ids, ctx);
  }
  auto ctx = model::ForwardContext::for_tokens(input_ids, attention_mask);
  return model.hidden_states(input_ids, ctx);
}

void save_adapters(const std::string& dir, const AdapterSet& adapters, const std::string& base_model) {
  const fs::path root(dir);
  fs::create_directories(root);
  if (adapters.lora && adapters.prefix)
    throw std::invalid_argument("save_adapters: LoRA and a prefix would both need adapter_config.json");
  if (adapters.prefix) {
    const auto& p = *adapters.prefix;
    const int64_t width = p.prompt_embeddings().size(1);
    const int64_t layers = width / (2 * p.token_dim());
    json config = {{"peft_type", "PREFIX_TUNING"}, {"task_type", "CAUSAL_LM"},
                   {"num_virtual_tokens", p.config().num_virtual_tokens}, {"token_dim", p.token_dim()},
                   {"num_transformer_submodules", 1}, {"num_attention_heads", p.token_dim() / p.head_dim()},
                   {"num_layers", layers}, {"encoder_hidden_size", p.config().encoder_hidden_size},
                   {"prefix_projection", p.config().prefix_projection}, {"inference_mode", true},
                   {"base_model_name_or_path", base_model}};
    std::ofstream(root / "adapter_config.json") << config.dump(2) << "\n";
    write_tensors(root / "adapter_model.safetensors", {{"prompt_embeddings", p.prompt_embeddings()}},
                  /*module_prefix=*/false);
  }
  if (adapters.lora) {
    const auto& c = adapters.lora->config();
    json config = {{"peft_type", "LORA"},         {"task_type", "CAUSAL_LM"},
                   {"r", c.r},                    {"lora_alpha", c.alpha},
                   {"lora_dropout", c.dropout},   {"target_modules", c.target_modules},
                   {"use_rslora", c.use_rslora},  {"fan_in_fan_out", c.fan_in_fan_out},
                   {"bias", "none"},              {"inference_mode", true},
                   {"init_lora_weights", true},   {"modules_to_save", nullptr},
                   {"base_model_name_or_path", base_model}};
    if (!c.layers_to_transform.empty()) config["layers_to_transform"] = c.layers_to_transform;
    std::ofstream(root / "adapter_config.json") << config.dump(2) << "\n";
    write_tensors(root / "adapter_model.safetensors", adapters.lora->named_tensors());
  }
  if (adapters.spf) {
    json config = {{"peft_type", "SPF"}, {"base_model_name_or_path", base_model}};
    if (adapters.spf_config)
      config.update({{"density", adapters.spf_config->density}, {"score", spf_score_name(adapters.spf_config->score)},
                     {"heads", adapters.spf_config->heads}, {"neurons", adapters.spf_config->neurons},
                     {"layers", adapters.spf_config->layers}});
    json modules = json::array();
    for (const auto& [name, m] : adapters.spf->modules()) modules.push_back(name);
    config["modules"] = modules;
    std::ofstream(root / "spf_config.json") << config.dump(2) << "\n";
    write_tensors(root / "spf_model.safetensors", adapters.spf->named_tensors());
  }
}

AdapterSet load_adapters(const std::string& dir, model::Transformer& model) {
  const fs::path root(dir);
  AdapterSet set;
  const auto config_file = root / "adapter_config.json";
  if (fs::exists(config_file)) {
    json j = read_json(config_file);
    const std::string type = j.value("peft_type", "");
    auto tensors = read_tensors(root / "adapter_model.safetensors");
    if (type == "LORA") {
      set.lora = Lora::attach(model, read_lora_config(config_file, j, model));
      set.lora->load(tensors);
    } else if (type == "PREFIX_TUNING") {
      if (!tensors.count("prompt_embeddings"))
        throw std::invalid_argument((root / "adapter_model.safetensors").string() + ": no tensor 'prompt_embeddings'");
      set.prefix = Prefix::from_embeddings(model, tensors.at("prompt_embeddings"));
    } else {
      fail(config_file, "peft_type", "'" + type + "' is not supported (LORA, PREFIX_TUNING)");
    }
  }
  if (fs::exists(root / "spf_config.json")) {
    json j = read_json(root / "spf_config.json");
    if (j.value("peft_type", "") != "SPF") fail(root / "spf_config.json", "peft_type", "expected \"SPF\"");
    set.spf = Spf::attach_saved(model, read_tensors(root / "spf_model.safetensors"));
  }
  if (!set.lora && !set.prefix && !set.spf)
    throw std::invalid_argument(root.string() + ": no adapter_config.json or spf_config.json");
  return set;
}

}  // namespace sg::peft
