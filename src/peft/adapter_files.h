// Adapter directories in Hugging Face PEFT's format, so adapters move both ways between SliceGuard and
// `peft.PeftModel.from_pretrained`:
//   adapter_config.json + adapter_model.safetensors   LoRA (PEFT keys: "base_model.model.<module>.lora_A.weight")
//                                                     or PREFIX_TUNING (key "prompt_embeddings": the encoder output)
//   spf_config.json + spf_model.safetensors           SPF, our companion files (PEFT ignores them)
#pragma once

#include <ATen/core/Tensor.h>

#include <optional>
#include <string>
#include <vector>

#include "peft/lora.h"
#include "peft/prefix.h"
#include "peft/spf.h"

namespace sg::model {
class Transformer;
}

namespace sg::peft {

// The adapters attached to one model (any of them may be absent).
struct AdapterSet {
  std::optional<Lora> lora;
  std::optional<Prefix> prefix;
  std::optional<Spf> spf;
  std::optional<SpfConfig> spf_config;
  std::vector<at::Tensor> parameters() const;
  int64_t trainable_parameters() const;
  void set_training(bool training);
  // Logits (B,T,V) of `model` with these adapters for a right- or left-padded batch (mask undefined = all real).
  at::Tensor logits(const model::Transformer& model, const at::Tensor& input_ids, const at::Tensor& attention_mask) const;
  // The final hidden states (B,T,D) the logits come from (model.head of them is `logits`).
  at::Tensor hidden_states(const model::Transformer& model, const at::Tensor& input_ids,
                           const at::Tensor& attention_mask) const;
};

// Writes the set into `dir` (created). `base_model` goes to base_model_name_or_path.
void save_adapters(const std::string& dir, const AdapterSet& adapters, const std::string& base_model);
// Reads whatever adapter files `dir` holds and attaches them to `model`. Unsupported PEFT options
// (DoRA, bias training, rank patterns, ...) are errors naming the file and field.
AdapterSet load_adapters(const std::string& dir, model::Transformer& model);

}  // namespace sg::peft
