#include "model/config.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "json/strict_object.h"

namespace sg::model {
namespace {

using nlohmann::json;

using Reader = strict::JsonObject<ConfigError>;

std::vector<int32_t> token_ids(const json& v) {
  std::vector<int32_t> ids;
  if (v.is_number_integer()) ids.push_back(v.get<int32_t>());
  if (v.is_array())
    for (const auto& id : v)
      if (id.is_number_integer()) ids.push_back(id.get<int32_t>());
  return ids;
}

// transformers 5.x writes `rope_parameters` {"rope_type", "rope_theta", "factor", ...}; 4.x wrote a top-level
// `rope_theta` beside an optional `rope_scaling` {"type" or "rope_type", "factor", ...}. Both are read; a rope type
// or parameter that changes the math and that this runtime lacks is refused by name, never ignored.
void read_rope(const Reader& r, ModelConfig& c) {
  // transformers moves a top-level partial_rotary_factor into the rope parameters; either place changes the math.
  if (r.has("partial_rotary_factor") && r.required<double>("partial_rotary_factor") != 1.0)
    r.fail("partial_rotary_factor", "only 1.0 is supported, got " + r.raw("partial_rotary_factor").dump());
  const bool v5 = r.has("rope_parameters");
  if (v5 && r.has("rope_scaling"))
    r.fail("rope_scaling", "given beside rope_parameters (transformers 5.x); expected only one of them");
  const std::string field = v5 ? "rope_parameters" : "rope_scaling";
  const double top_level_theta = r.optional<double>("rope_theta", 10000.0);
  if (!v5 && !r.has("rope_scaling")) {
    c.rope_theta = top_level_theta;
    return;
  }
  const json& p = r.raw(field);
  if (!p.is_object()) r.fail(field, "expected an object, got " + p.dump());
  const auto number = [&](const std::string& key) {
    if (!p.contains(key) || !p[key].is_number() || p[key].get<double>() <= 0)
      r.fail(field + "." + key, "expected a positive number" + (p.contains(key) ? ", got " + p[key].dump() : ""));
    return p[key].get<double>();
  };
  const std::string type = p.value("rope_type", p.value("type", std::string("default")));
  // As transformers 5: rope_parameters.rope_theta, else the top-level rope_theta, else 10000.
  c.rope_theta = v5 && p.contains("rope_theta") ? number("rope_theta") : top_level_theta;
  if (v5 && r.has("rope_theta") && top_level_theta != c.rope_theta)
    r.fail("rope_theta", "disagrees with rope_parameters.rope_theta (" + p["rope_theta"].dump() + ")");
  if (type == "linear") c.rope_linear_factor = number("factor");
  else if (type != "default")
    r.fail(field + ".rope_type", "'" + type + "' is not supported (supported: default, linear)");
  if (p.contains("partial_rotary_factor") && p["partial_rotary_factor"] != 1.0)
    r.fail(field + ".partial_rotary_factor", "only 1.0 is supported, got " + p["partial_rotary_factor"].dump());
}

void read_decoder(const Reader& r, ModelConfig& c) {
  c.vocab_size = r.required<int64_t>("vocab_size");
  c.hidden_size = r.required<int64_t>("hidden_size");
  c.intermediate_size = r.required<int64_t>("intermediate_size");
  c.num_layers = r.required<int>("num_hidden_layers");
  c.num_heads = r.required<int>("num_attention_heads");
  c.num_kv_heads = r.optional<int>("num_key_value_heads", c.num_heads);
  c.head_dim = r.optional<int64_t>("head_dim", c.num_heads > 0 ? c.hidden_size / c.num_heads : 0);
  c.max_positions = r.optional<int64_t>("max_position_embeddings", 2048);
  c.norm_eps = r.optional<double>("rms_norm_eps", 1e-6);
  c.hidden_act = r.optional<std::string>("hidden_act", "silu");
  c.tie_word_embeddings = r.optional<bool>("tie_word_embeddings", false);
  read_rope(r, c);
  if (c.family == Family::Qwen2) {
    c.qkv_bias = true;
    if (r.optional<bool>("use_sliding_window", false))
      r.fail("use_sliding_window", "Qwen2 sliding-window attention is not supported");
  } else {
    c.qkv_bias = c.o_bias = r.optional<bool>("attention_bias", false);
    c.mlp_bias = r.optional<bool>("mlp_bias", false);
  }
  if (c.family == Family::Mistral && r.has("sliding_window"))
    c.sliding_window = r.required<int64_t>("sliding_window");
}

void read_gpt2(const Reader& r, ModelConfig& c) {
  c.vocab_size = r.required<int64_t>("vocab_size");
  c.hidden_size = r.required<int64_t>("n_embd");
  c.intermediate_size = r.optional<int64_t>("n_inner", 4 * c.hidden_size);
  c.num_layers = r.required<int>("n_layer");
  c.num_heads = r.required<int>("n_head");
  c.num_kv_heads = c.num_heads;
  c.head_dim = c.num_heads > 0 ? c.hidden_size / c.num_heads : 0;
  c.max_positions = r.required<int64_t>("n_positions");
  c.norm_eps = r.optional<double>("layer_norm_epsilon", 1e-5);
  c.hidden_act = r.optional<std::string>("activation_function", "gelu_new");
  c.tie_word_embeddings = r.optional<bool>("tie_word_embeddings", true);
  c.qkv_bias = c.o_bias = c.mlp_bias = true;
  if (!r.optional<bool>("scale_attn_weights", true)) r.fail("scale_attn_weights", "only true is supported");
  if (r.optional<bool>("scale_attn_by_inverse_layer_idx", false))
    r.fail("scale_attn_by_inverse_layer_idx", "only false is supported");
  if (r.optional<bool>("reorder_and_upcast_attn", false))
    r.fail("reorder_and_upcast_attn", "only false is supported");
}

void validate(const Reader& r, const ModelConfig& c) {
  if (c.num_layers <= 0) r.fail("num_hidden_layers", "must be positive");
  if (c.num_heads <= 0) r.fail("num_attention_heads", "must be positive");
  if (c.num_kv_heads <= 0 || c.num_heads % c.num_kv_heads != 0)
    r.fail("num_key_value_heads", "must divide num_attention_heads (" + std::to_string(c.num_heads) + ")");
  if (c.head_dim <= 0 || c.head_dim % 2 != 0) r.fail("head_dim", "must be positive and even");
  if (c.vocab_size <= 0 || c.hidden_size <= 0 || c.intermediate_size <= 0)
    r.fail("hidden_size", "sizes must be positive");
  static const char* kActs[] = {"silu", "gelu_new", "gelu", "gelu_pytorch_tanh", "relu"};
  if (std::find(std::begin(kActs), std::end(kActs), c.hidden_act) == std::end(kActs))
    r.fail(c.family == Family::Gpt2 ? "activation_function" : "hidden_act",
           "'" + c.hidden_act + "' is not supported (silu, gelu_new, gelu, gelu_pytorch_tanh, relu)");
}

}  // namespace

int64_t ModelConfig::num_parameters() const {
  const int64_t d = hidden_size;
  const int64_t kv = int64_t(num_kv_heads) * head_dim;
  const int64_t q = int64_t(num_heads) * head_dim;
  int64_t attn = d * q + 2 * d * kv + q * d;
  int64_t mlp = 0, norms = 0;
  if (family == Family::Gpt2) {
    attn += 3 * q + d;
    mlp = 2 * d * intermediate_size + intermediate_size + d;
    norms = 4 * d;
  } else {
    if (qkv_bias) attn += q + 2 * kv;
    if (o_bias) attn += d;
    mlp = 3 * d * intermediate_size + (mlp_bias ? 2 * intermediate_size + d : 0);
    norms = 2 * d;
  }
  int64_t total = num_layers * (attn + mlp + norms);
  total += vocab_size * d;                                  // embedding
  if (!tie_word_embeddings) total += vocab_size * d;        // lm_head
  total += family == Family::Gpt2 ? max_positions * d + 2 * d : d;   // wpe + ln_f, or final RMSNorm
  return total;
}

ModelConfig parse_config(const std::string& json_text, const std::string& label) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::exception& e) {
    throw ConfigError(label + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw ConfigError(label + ": expected a JSON object");
  Reader r(j, label, Reader::Null::absent);
  ModelConfig c;
  c.model_type = r.required<std::string>("model_type");
  if (c.model_type == "llama") c.family = Family::Llama;
  else if (c.model_type == "qwen2") c.family = Family::Qwen2;
  else if (c.model_type == "mistral") c.family = Family::Mistral;
  else if (c.model_type == "gpt2") c.family = Family::Gpt2;
  else r.fail("model_type", "'" + c.model_type + "' is not supported (llama, qwen2, mistral, gpt2)");

  if (c.family == Family::Gpt2) read_gpt2(r, c);
  else read_decoder(r, c);
  validate(r, c);

  if (r.has("bos_token_id")) c.bos_token_id = r.required<int>("bos_token_id");
  if (j.contains("eos_token_id")) c.eos_token_ids = token_ids(j["eos_token_id"]);
  if (r.has("pad_token_id")) c.pad_token_id = r.required<int>("pad_token_id");
  return c;
}

namespace {
std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(path.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

ModelConfig load_config(const std::string& dir) {
  const std::filesystem::path root(dir);
  ModelConfig c = parse_config(read_file(root / "config.json"), (root / "config.json").string());
  const auto gen = root / "generation_config.json";
  if (std::filesystem::exists(gen)) {
    json g = json::parse(read_file(gen), nullptr, false);
    if (g.is_object() && g.contains("eos_token_id")) {
      auto ids = token_ids(g["eos_token_id"]);
      if (!ids.empty()) c.eos_token_ids = ids;
    }
  }
  return c;
}

}  // namespace sg::model
