// LoRA as Hugging Face PEFT defines it: y = W0 x + scaling * B A dropout(x), A Kaiming-uniform(a=sqrt 5),
// B zero, scaling = alpha / r (alpha / sqrt r with rsLoRA). Attached to a Transformer's linear modules by name.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "model/layers.h"

namespace sg::model {
class Transformer;
}

namespace sg::peft {

struct LoraConfig {
  int r = 8;
  double alpha = 16;
  double dropout = 0.0;
  bool use_rslora = false;
  // PEFT matching: an entry matches a module whose name equals it or ends with "." + entry.
  std::vector<std::string> target_modules;
  // PEFT's flag for base weights stored (in, out) (gpt2 Conv1D). Set by Lora::attach from the model family and
  // written to adapter_config.json; A (r, in) and B (out, r) have the same shapes either way.
  bool fan_in_fan_out = false;
  // PEFT's layers_to_transform: only these layer indices get LoRA (empty = every loaded layer). Split training
  // adapts only the server's layers [k, L); a local run with the same list is its baseline.
  std::vector<int> layers_to_transform;
  double scaling() const;
};

// One module's LoRA pair. A (r, in), B (out, r): the trainable parameters.
class LoraAdapter : public model::LinearAdapter {
 public:
  LoraAdapter(at::Tensor a, at::Tensor b, double scaling, double dropout);
  at::Tensor apply(const at::Tensor& x, const at::Tensor& frozen_output) const override;
  // The adapter's contribution alone, in x's dtype: scaling * B A dropout(x).
  at::Tensor delta(const at::Tensor& x) const;
  at::Tensor merged(const at::Tensor& frozen_weight) const override;   // W0 + scaling * B A
  const at::Tensor& a() const { return a_; }
  const at::Tensor& b() const { return b_; }
  void set_training(bool training) { training_ = training; }

 private:
  at::Tensor own_dtype_delta(const at::Tensor& x) const;   // delta in the adapter's dtype (fp32 on a bf16 model)
  at::Tensor a_, b_;
  double scaling_, dropout_;
  bool training_ = false;
};

// True when `layers` is empty or lists `layer`.
bool in_layers(int layer, const std::vector<int>& layers);
bool matches_target(const std::string& module_name, const std::vector<std::string>& targets);

// A linear module's name, layer and shape: all LoRA needs to create its pair.
struct ModuleShape {
  std::string name;
  int layer = 0;
  int64_t in = 0, out = 0;
};

// LoRA on every targeted module of `model`, keyed by module name. Fresh init (seeded by the caller's
// torch::manual_seed) or, with `weights` (PEFT names without the "base_model.model." prefix), loaded.
class Lora {
 public:
  static Lora attach(model::Transformer& model, const LoraConfig& config);
  // The same pairs, initialised the same way, for the targeted modules among `modules` — but attached to no
  // model: for an enclave that holds the adapter while the frozen model runs in its host.
  static Lora create(const std::vector<ModuleShape>& modules, const LoraConfig& config,
                     const at::TensorOptions& options);
  const LoraConfig& config() const { return config_; }
  const std::map<std::string, std::shared_ptr<LoraAdapter>>& modules() const { return modules_; }
  std::vector<at::Tensor> parameters() const;
  void set_training(bool training);
  // "<module>.lora_A.weight" / "<module>.lora_B.weight" -> tensor, as PEFT names them (without prefix).
  std::vector<std::pair<std::string, at::Tensor>> named_tensors() const;
  void load(const std::map<std::string, at::Tensor>& tensors);   // throws naming the missing/misshapen key

 private:
  LoraConfig config_;
  std::map<std::string, std::shared_ptr<LoraAdapter>> modules_;
};

}  // namespace sg::peft
