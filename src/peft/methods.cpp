#include "peft/methods.h"

#include <algorithm>
#include <stdexcept>

#include "model/transformer.h"

namespace sg::peft {

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> kNames = {"lora", "ptuning", "spf", "spf+lora"};
  return kNames;
}

bool method_uses_spf(const std::string& method) { return method == "spf" || method == "spf+lora"; }

std::vector<std::string> attention_targets(const model::ModelConfig& config) {
  if (config.family == model::Family::Gpt2) return {"c_attn"};
  return {"q_proj", "k_proj", "v_proj", "o_proj"};
}

namespace {

std::vector<int> layer_range(const MethodOptions& options, const model::ModelConfig& config) {
  const int end = options.end_layer < 0 ? config.num_layers : options.end_layer;
  if (options.first_layer < 0 || options.first_layer >= end || end > config.num_layers)
    throw std::invalid_argument("adapter layers [" + std::to_string(options.first_layer) + ", " + std::to_string(end) +
                                ") are not a non-empty range within the model's " + std::to_string(config.num_layers) +
                                " layers");
  if (options.first_layer == 0 && end == config.num_layers) return {};   // every layer: nothing to restrict
  std::vector<int> layers;
  for (int i = options.first_layer; i < end; ++i) layers.push_back(i);
  return layers;
}
}  // namespace

AdapterSet attach_method(model::Transformer& model, const MethodOptions& options, const GradientScores& gradients) {
  const auto& names = method_names();
  if (std::find(names.begin(), names.end(), options.method) == names.end())
    throw std::invalid_argument("method '" + options.method + "' is not one of lora, ptuning, spf, spf+lora");
  const auto layers = layer_range(options, model.config());
  if (options.method == "ptuning" && !layers.empty())
    throw std::invalid_argument("ptuning: the prefix spans every layer; it cannot be restricted to a layer range");
  AdapterSet set;
  if (method_uses_spf(options.method)) {
    SpfConfig spf = options.spf;
    if (options.method == "spf+lora") spf.heads = false;   // attention belongs to LoRA
    spf.layers = layers;
    set.spf = Spf::attach(model, spf, gradients);
    set.spf_config = spf;
  }
  if (options.method == "lora" || options.method == "spf+lora") {
    LoraConfig lora = options.lora;
    if (lora.target_modules.empty()) lora.target_modules = attention_targets(model.config());
    lora.layers_to_transform = layers;
    set.lora = Lora::attach(model, lora);
  }
  if (options.method == "ptuning") set.prefix = Prefix::create(model, options.prefix);
  return set;
}

}  // namespace sg::peft
