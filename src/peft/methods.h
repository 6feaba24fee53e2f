// The fine-tuning methods by name, with the defaults a user gets from `sliceguard finetune --method`:
//   lora       LoRA on the attention projections
//   ptuning    P-tuning v2 (PEFT PREFIX_TUNING)
//   spf        SPF on attention heads and MLP neurons
//   spf+lora   SPF on MLP neurons, LoRA on the attention projections, trained together
#pragma once

#include <string>
#include <vector>

#include "peft/adapter_files.h"

namespace sg::model {
class Transformer;
}

namespace sg::peft {

struct MethodOptions {
  std::string method = "lora";
  LoraConfig lora;                 // target_modules empty = the family's attention projections
  PrefixConfig prefix;
  SpfConfig spf;
  // Layers that get adapters, [first_layer, end_layer) (end -1 = the last). Split training adapts only the
  // server's layers; a local run restricted the same way is its baseline. P-tuning needs every layer.
  int first_layer = 0;
  int end_layer = -1;
};

const std::vector<std::string>& method_names();
bool method_uses_spf(const std::string& method);
// LoRA's default target modules (the attention projections), as `finetune` uses when none are given.
std::vector<std::string> attention_targets(const model::ModelConfig& config);

// Attaches the method's adapters to `model`. SPF with score `grad` needs `gradients` (see train/spf_calibration.h).
AdapterSet attach_method(model::Transformer& model, const MethodOptions& options, const GradientScores& gradients = {});

}  // namespace sg::peft
