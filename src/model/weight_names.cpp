#include "model/weight_names.h"

#include <stdexcept>

#include "tensor/safetensors.h"

namespace sg::model {

namespace {
constexpr const char* kGpt2Prefix = "transformer.";
}

WeightNames::WeightNames(const ModelConfig& config, const tensor::Checkpoint& checkpoint) : WeightNames(config) {
  strip_transformer_prefix_ = family_ == Family::Gpt2 && !checkpoint.contains("transformer.wte.weight") &&
                              checkpoint.contains("wte.weight");
}

std::string WeightNames::embedding() const {
  return family_ == Family::Gpt2 ? "transformer.wte.weight" : "model.embed_tokens.weight";
}
std::string WeightNames::position_embedding() const { return "transformer.wpe.weight"; }
std::string WeightNames::lm_head() const { return "lm_head.weight"; }
std::string WeightNames::final_norm() const { return family_ == Family::Gpt2 ? "transformer.ln_f" : "model.norm"; }

std::string WeightNames::layer_prefix(int layer) const {
  return (family_ == Family::Gpt2 ? "transformer.h." : "model.layers.") + std::to_string(layer) + ".";
}

std::string WeightNames::attn_norm(int layer) const {
  return layer_prefix(layer) + (family_ == Family::Gpt2 ? "ln_1" : "input_layernorm");
}

std::string WeightNames::mlp_norm(int layer) const {
  return layer_prefix(layer) + (family_ == Family::Gpt2 ? "ln_2" : "post_attention_layernorm");
}

std::string WeightNames::module(int layer, Role role) const {
  const char* suffix = nullptr;
  if (family_ == Family::Gpt2) {
    switch (role) {
      case Role::Qkv: suffix = "attn.c_attn"; break;
      case Role::O: suffix = "attn.c_proj"; break;
      case Role::Up: suffix = "mlp.c_fc"; break;
      case Role::Down: suffix = "mlp.c_proj"; break;
      default: break;
    }
  } else {
    switch (role) {
      case Role::Q: suffix = "self_attn.q_proj"; break;
      case Role::K: suffix = "self_attn.k_proj"; break;
      case Role::V: suffix = "self_attn.v_proj"; break;
      case Role::O: suffix = "self_attn.o_proj"; break;
      case Role::Gate: suffix = "mlp.gate_proj"; break;
      case Role::Up: suffix = "mlp.up_proj"; break;
      case Role::Down: suffix = "mlp.down_proj"; break;
      default: break;
    }
  }
  if (!suffix) throw std::invalid_argument("this model family has no such linear module in layer " + std::to_string(layer));
  return layer_prefix(layer) + suffix;
}

std::string WeightNames::on_disk(const std::string& tensor_name) const {
  if (strip_transformer_prefix_ && tensor_name.rfind(kGpt2Prefix, 0) == 0)
    return tensor_name.substr(std::string(kGpt2Prefix).size());
  return tensor_name;
}

}  // namespace sg::model
