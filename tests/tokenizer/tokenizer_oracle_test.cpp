// Our tokenizers against Hugging Face `tokenizers` / transformers' slow LlamaTokenizer on tiny tokenizers
// trained locally by make_fixtures.py: ids (with and without special tokens) and decoded texts must be equal.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

#include "model/tokenizer/tokenizer.h"

namespace sg::model {
namespace {

std::string fixture_dir(const std::string& name) {
  const char* root = std::getenv("SG_TOKENIZER_FIXTURES");
  if (!root) throw std::runtime_error("SG_TOKENIZER_FIXTURES is not set (run through ctest)");
  return std::string(root) + "/" + name;
}

class TokenizerOracle : public ::testing::TestWithParam<std::string> {};

TEST_P(TokenizerOracle, matches_reference_ids_and_text) {
  const std::string dir = fixture_dir(GetParam());
  std::ifstream in(dir + "/expected.json");
  ASSERT_TRUE(in) << "missing " << dir << "/expected.json";
  const auto expected = nlohmann::json::parse(in);
  const auto tokenizer = Tokenizer::load(dir);
  ASSERT_GT(expected["cases"].size(), 0u);
  for (const auto& c : expected["cases"]) {
    const std::string text = c["text"];
    SCOPED_TRACE("text: \"" + text + "\"");
    const auto ids = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tokenizer->encode(text, true), ids);
    EXPECT_EQ(tokenizer->encode(text, false), c["ids_no_special"].get<std::vector<int32_t>>());
    EXPECT_EQ(tokenizer->decode(ids, false), c["decoded"].get<std::string>());
    EXPECT_EQ(tokenizer->decode(ids, true), c["decoded_skip_special"].get<std::string>());
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TokenizerOracle,
                         ::testing::Values("gpt2", "qwen2", "llama3", "metaspace", "llama2",
                                           "llama2_metaspace_first", "sentencepiece"));

TEST(TokenizerOracleSpecials, bos_eos_pad_from_config_or_file) {
  const auto llama2 = Tokenizer::load(fixture_dir("llama2"));
  EXPECT_EQ(llama2->bos_id(), 1);
  EXPECT_EQ(llama2->eos_id(), 2);
  const auto qwen2 = Tokenizer::load(fixture_dir("qwen2"));
  EXPECT_EQ(qwen2->bos_id(), std::nullopt);
  EXPECT_EQ(qwen2->eos_id(), qwen2->token_to_id("<|im_end|>"));
  EXPECT_EQ(qwen2->pad_id(), qwen2->token_to_id("<|endoftext|>"));
  const auto sp = Tokenizer::load(fixture_dir("sentencepiece"));
  EXPECT_EQ(sp->bos_id(), 1);
  EXPECT_EQ(sp->eos_id(), 2);
  EXPECT_EQ(sp->pad_id(), std::nullopt);
  EXPECT_EQ(sp->id_to_token(1), "<s>");
  // Without tokenizer_config.json: the file's own specials (template bos; sentencepiece trainer ids).
  EXPECT_EQ(Tokenizer::from_json_file(fixture_dir("llama3") + "/tokenizer.json")->bos_id(), 0);
  EXPECT_EQ(Tokenizer::from_sentencepiece_file(fixture_dir("sentencepiece") + "/tokenizer.model")->eos_id(), 2);
}

TEST(TokenizerOracleSpecials, sentencepiece_defaults_add_bos_only) {
  const auto sp = Tokenizer::from_sentencepiece_file(fixture_dir("sentencepiece") + "/tokenizer.model");
  const auto ids = sp->encode("Hello world", true);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.front(), 1);
  EXPECT_NE(ids.back(), 2);
}

}  // namespace
}  // namespace sg::model
