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

namespace {
std::vector<std::string> attention_targets(const model::ModelConfig& config) {
  if (config.family == model::Family::Gpt2) return {"c_attn"};
  return {"q_proj", "k_proj", "v_proj", "o_proj"};
}
}  // namespace

AdapterSet attach_method(model::Transformer& model, const MethodOptions& options, const GradientScores& gradients) {
  const auto& names = method_names();
  if (std::find(names.begin(), names.end(), options.method) == names.end())
    throw std::invalid_argument("method '" + options.method + "' is not one of lora, ptuning, spf, spf+lora");
  AdapterSet set;
  if (method_uses_spf(options.method)) {
    SpfConfig spf = options.spf;
    if (options.method == "spf+lora") spf.heads = false;   // attention belongs to LoRA
    set.spf = Spf::attach(model, spf, gradients);
    set.spf_config = spf;
  }
  if (options.method == "lora" || options.method == "spf+lora") {
    LoraConfig lora = options.lora;
    if (lora.target_modules.empty()) lora.target_modules = attention_targets(model.config());
    set.lora = Lora::attach(model, lora);
  }
  if (options.method == "ptuning") set.prefix = Prefix::create(model, options.prefix);
  return set;
}

}  // namespace sg::peft
