// config.json parsing: every family's fields, and a clear one-line error for what we do not implement.
#include <gtest/gtest.h>

#include "model/config.h"

namespace sg::model {
namespace {

std::string llama(const std::string& extra = "") {
  return R"({"model_type": "llama", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
             "num_hidden_layers": 2, "num_attention_heads": 4)" + extra + "}";
}

std::string error_of(const std::string& text) {
  try {
    parse_config(text, "config.json");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Config, LlamaDefaultsFollowTransformers) {
  auto c = parse_config(llama(), "config.json");
  EXPECT_EQ(c.family, Family::Llama);
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
}

TEST(Config, Gpt2TiesEmbeddingsByDefault) {
  auto c = parse_config(R"({"model_type": "gpt2", "vocab_size": 50, "n_embd": 32, "n_layer": 2, "n_head": 4,
                            "n_positions": 64})", "config.json");
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.intermediate_size, 128);
  EXPECT_EQ(c.hidden_act, "gelu_new");
}

TEST(Config, Qwen2HasQkvBiasButNoOutputBias) {
  auto c = parse_config(R"({"model_type": "qwen2", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
                            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2})",
                        "config.json");
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_bias);
}

TEST(Config, UnknownModelTypeNamesTheField) {
  EXPECT_EQ(error_of(R"({"model_type": "bert"})"),
            "config.json: field 'model_type': 'bert' is not supported (llama, qwen2, mistral, gpt2)");
}

TEST(Config, UnsupportedRopeScalingIsAnError) {
  EXPECT_EQ(error_of(llama(R"(, "rope_scaling": {"type": "yarn", "factor": 4.0})")),
            "config.json: field 'rope_scaling.rope_type': 'yarn' is not supported (supported: default, linear)");
  EXPECT_EQ(error_of(llama(R"(, "rope_parameters": {"rope_type": "llama3", "rope_theta": 5e5, "factor": 8.0})")),
            "config.json: field 'rope_parameters.rope_type': 'llama3' is not supported (supported: default, linear)");
}

// transformers 5.x: rope_theta lives inside rope_parameters; 4.x: top level, beside rope_scaling.
TEST(Config, RopeReadInBothSpellings) {
  const auto v5 = parse_config(llama(R"(, "rope_parameters": {"rope_type": "linear", "type": "linear",
                                                                "rope_theta": 500000.0, "factor": 2.0})"),
                               "config.json");
  EXPECT_EQ(v5.rope_theta, 500000.0);
  EXPECT_EQ(v5.rope_linear_factor, 2.0);
  const auto v4 = parse_config(llama(R"(, "rope_theta": 500000.0, "rope_scaling": {"type": "linear", "factor": 2.0})"),
                               "config.json");
  EXPECT_EQ(v4.rope_theta, 500000.0);
  EXPECT_EQ(v4.rope_linear_factor, 2.0);
  EXPECT_EQ(parse_config(llama(R"(, "rope_parameters": {"rope_type": "default", "rope_theta": 1e6})"), "config.json")
                .rope_theta,
            1e6);
  EXPECT_EQ(parse_config(llama(""), "config.json").rope_theta, 10000.0);
  // As transformers 5: without rope_theta in rope_parameters, the top-level one, else the default.
  EXPECT_EQ(parse_config(llama(R"(, "rope_theta": 2e4, "rope_parameters": {"rope_type": "default"})"), "config.json")
                .rope_theta,
            2e4);
  EXPECT_EQ(parse_config(llama(R"(, "rope_parameters": {"rope_type": "default"})"), "config.json").rope_theta, 1e4);
}

TEST(Config, RopeFieldsThatChangeTheMathAreRefusedByName) {
  EXPECT_EQ(error_of(llama(R"(, "rope_parameters": {"rope_type": "default", "rope_theta": -1})")),
            "config.json: field 'rope_parameters.rope_theta': expected a positive number, got -1");
  EXPECT_EQ(error_of(llama(R"(, "partial_rotary_factor": 0.5)")),
            "config.json: field 'partial_rotary_factor': only 1.0 is supported, got 0.5");
  EXPECT_EQ(error_of(llama(R"(, "rope_theta": 1e4, "rope_parameters": {"rope_type": "default", "rope_theta": 1e6})")),
            "config.json: field 'rope_theta': disagrees with rope_parameters.rope_theta (1000000.0)");
  EXPECT_EQ(error_of(llama(R"(, "rope_parameters": {"rope_type": "default", "rope_theta": 1e4,
                                                     "partial_rotary_factor": 0.5})")),
            "config.json: field 'rope_parameters.partial_rotary_factor': only 1.0 is supported, got 0.5");
  EXPECT_EQ(error_of(llama(R"(, "rope_parameters": {"rope_type": "default", "rope_theta": 1e4},
                               "rope_scaling": {"type": "linear", "factor": 2.0})")),
            "config.json: field 'rope_scaling': given beside rope_parameters (transformers 5.x); expected only one of "
            "them");
}

TEST(Config, KvHeadsMustDivideHeads) {
  EXPECT_NE(error_of(llama(R"(, "num_key_value_heads": 3)")).find("num_key_value_heads"), std::string::npos);
}

TEST(Config, MissingFieldIsNamed) {
  EXPECT_EQ(error_of(R"({"model_type": "llama"})"), "config.json: field 'vocab_size': is required");
}

TEST(Config, WrongTypeIsNamed) {
  EXPECT_NE(error_of(llama(R"(, "rms_norm_eps": "small")")).find("field 'rms_norm_eps': expected a number"),
            std::string::npos);
}

TEST(Config, NotJsonIsAnError) {
  EXPECT_NE(error_of("{model_type").find("config.json: not valid JSON"), std::string::npos);
}

TEST(Config, UnsupportedActivationIsAnError) {
  EXPECT_NE(error_of(llama(R"(, "hidden_act": "swiglu2")")).find("hidden_act"), std::string::npos);
}

TEST(Config, ParameterCountMatchesTransformersForTiedLlama) {
  // LlamaForCausalLM(vocab 100, d 64, ffn 128, 2 layers, 4 heads, tied).num_parameters() == 63_552
  auto c = parse_config(llama(R"(, "tie_word_embeddings": true)"), "config.json");
  EXPECT_EQ(c.num_parameters(), 2 * (4 * 64 * 64 + 3 * 64 * 128 + 2 * 64) + 100 * 64 + 64);
}

}  // namespace
}  // namespace sg::model
