// Hugging Face tensor and module names per family ("model.layers.3.self_attn.q_proj", "transformer.h.3.attn.c_attn").
// PEFT adapters and sliced loading address weights by these names.
#pragma once

#include <string>

#include "model/config.h"

namespace sg::tensor {
class Checkpoint;
}

namespace sg::model {

// The linear modules of a layer. Decoder families use Q,K,V,O,Gate,Up,Down; gpt2 uses Qkv,O,Up,Down.
enum class Role { Q, K, V, Qkv, O, Gate, Up, Down };
inline constexpr Role kAllRoles[] = {Role::Q, Role::K, Role::V, Role::Qkv, Role::O, Role::Gate, Role::Up, Role::Down};

class WeightNames {
 public:
  explicit WeightNames(const ModelConfig& config) : family_(config.family) {}
  // Also detects gpt2 checkpoints saved without the "transformer." prefix.
  WeightNames(const ModelConfig& config, const tensor::Checkpoint& checkpoint);

  std::string embedding() const;            // tensor names
  std::string position_embedding() const;
  std::string lm_head() const;
  std::string final_norm() const;           // module names (append ".weight" / ".bias")
  std::string attn_norm(int layer) const;
  std::string mlp_norm(int layer) const;
  std::string module(int layer, Role role) const;   // throws std::invalid_argument for a role the family lacks

  std::string on_disk(const std::string& tensor_name) const;   // the name as stored in the checkpoint

 private:
  std::string layer_prefix(int layer) const;
  Family family_;
  bool strip_transformer_prefix_ = false;
};

}  // namespace sg::model
