// Hand-written tokenizer.json cases and every error path: unsupported components name file and field,
// malformed files and inputs are TokenizerErrors, never a silent wrong answer.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "model/tokenizer/json_tokenizer.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/utf8.h"

namespace sg::model {
namespace {

using nlohmann::json;

// vocab a b c ab abc, specials <unk> <s>; merges in both accepted forms.
json tiny_bpe() {
  return json::parse(R"({
    "version": "1.0", "truncation": null, "padding": null,
    "added_tokens": [{"id": 5, "content": "<s>", "special": true, "normalized": false,
                      "lstrip": false, "rstrip": false, "single_word": false}],
    "normalizer": null, "pre_tokenizer": null, "post_processor": null, "decoder": null,
    "model": {"type": "BPE", "dropout": null, "unk_token": "<unk>", "fuse_unk": false, "byte_fallback": false,
              "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "abc": 4, "<s>": 5, "<unk>": 6},
              "merges": ["a b", ["ab", "c"]]}
  })");
}

std::unique_ptr<Tokenizer> parse(const json& j) { return parse_json_tokenizer(j.dump(), "tokenizer.json", {}); }

std::string error_of(const json& j) {
  try {
    parse(j);
  } catch (const TokenizerError& e) {
    return e.what();
  }
  return "no error";
}

TEST(TokenizerJson, bpe_merges_in_string_and_pair_form) {
  const auto tok = parse(tiny_bpe());
  EXPECT_EQ(tok->encode("abc"), (std::vector<int32_t>{4}));
  EXPECT_EQ(tok->encode("abcab"), (std::vector<int32_t>{4, 3}));
  EXPECT_EQ(tok->encode("ba"), (std::vector<int32_t>{1, 0}));
  EXPECT_EQ(tok->decode({4, 3}), "abc ab");  // no decoder: tokens joined by spaces, as HF
  EXPECT_EQ(tok->vocab_size(), 7);
}

TEST(TokenizerJson, unknown_characters_become_unk_and_fuse_when_asked) {
  auto j = tiny_bpe();
  EXPECT_EQ(parse(j)->encode("axxb"), (std::vector<int32_t>{0, 6, 6, 1}));
  j["model"]["fuse_unk"] = true;
  EXPECT_EQ(parse(j)->encode("axxb"), (std::vector<int32_t>{0, 6, 1}));
}

TEST(TokenizerJson, byte_fallback_uses_byte_tokens_when_all_exist) {
  auto j = tiny_bpe();
  j["model"]["byte_fallback"] = true;
  j["model"]["vocab"]["<0xC3>"] = 7;
  j["model"]["vocab"]["<0xA9>"] = 8;
  j["decoder"] = json::parse(R"({"type": "Sequence", "decoders": [{"type": "ByteFallback"}, {"type": "Fuse"}]})");
  const auto tok = parse(j);
  EXPECT_EQ(tok->encode("a\xC3\xA9"), (std::vector<int32_t>{0, 7, 8}));       // é: both bytes known
  EXPECT_EQ(tok->encode("\xC3\xB6"), (std::vector<int32_t>{6}));              // ö: <0xB6> missing -> unk
  EXPECT_EQ(tok->decode({0, 7, 8}), "a\xC3\xA9");
  EXPECT_EQ(tok->decode({7, 0}), "\xEF\xBF\xBD" "a");  // a lone byte is invalid UTF-8: one U+FFFD per byte
}

TEST(TokenizerJson, special_tokens_split_out_and_skipped_in_decode) {
  auto j = tiny_bpe();
  j["post_processor"] = json::parse(R"({"type": "TemplateProcessing",
      "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
      "pair": [], "special_tokens": {"<s>": {"id": "<s>", "ids": [5], "tokens": ["<s>"]}}})");
  const auto tok = parse(j);
  EXPECT_EQ(tok->encode("ab<s>c"), (std::vector<int32_t>{5, 3, 5, 2}));
  EXPECT_EQ(tok->encode("ab<s>c", false), (std::vector<int32_t>{3, 5, 2}));
  EXPECT_EQ(tok->encode(""), (std::vector<int32_t>{5}));
  EXPECT_EQ(tok->decode({5, 3}, true), "ab");
  EXPECT_EQ(tok->bos_id(), 5);
  EXPECT_EQ(tok->token_to_id("<s>"), 5);
  EXPECT_EQ(tok->id_to_token(4), "abc");
}

TEST(TokenizerJson, added_token_rstrip_and_lstrip_swallow_whitespace) {
  auto j = tiny_bpe();
  j["model"]["vocab"][" "] = 7;
  j["added_tokens"][0]["rstrip"] = true;
  EXPECT_EQ(parse(j)->encode("a <s>  b", false), (std::vector<int32_t>{0, 7, 5, 1}));
  j["added_tokens"][0]["lstrip"] = true;
  EXPECT_EQ(parse(j)->encode("a <s>  b", false), (std::vector<int32_t>{0, 5, 1}));
}

TEST(TokenizerJson, single_word_token_not_matched_inside_words) {
  auto j = tiny_bpe();
  j["added_tokens"][0]["single_word"] = true;
  j["model"]["vocab"]["<"] = 7;
  j["model"]["vocab"][">"] = 8;
  j["model"]["vocab"]["s"] = 9;
  EXPECT_EQ(parse(j)->encode("a<s>", false), (std::vector<int32_t>{0, 7, 9, 8}));
}

TEST(TokenizerJson, strip_and_replace_decoders) {
  auto j = tiny_bpe();
  j["decoder"] = json::parse(R"({"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "a"}, "content": " "}, {"type": "Fuse"},
      {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})");
  EXPECT_EQ(parse(j)->decode({0, 1, 0, 2}), "b c");
}

TEST(TokenizerJsonErrors, unsupported_components_name_file_and_field) {
  auto j = tiny_bpe();
  j["pre_tokenizer"] = {{"type", "Whitespace"}};
  EXPECT_EQ(error_of(j), "tokenizer.json: pre_tokenizer.type 'Whitespace' is not supported");

  j = tiny_bpe();
  j["pre_tokenizer"] = json::parse(R"({"type": "Sequence", "pretokenizers": [
      {"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}, {"type": "Digits"}]})");
  EXPECT_EQ(error_of(j), "tokenizer.json: pre_tokenizer.pretokenizers[1].type 'Digits' is not supported");

  j = tiny_bpe();
  j["normalizer"] = {{"type", "Lowercase"}};
  EXPECT_EQ(error_of(j), "tokenizer.json: normalizer.type 'Lowercase' is not supported");

  j = tiny_bpe();
  j["decoder"] = {{"type", "WordPiece"}};
  EXPECT_EQ(error_of(j), "tokenizer.json: decoder.type 'WordPiece' is not supported");

  j = tiny_bpe();
  j["post_processor"] = {{"type", "BertProcessing"}};
  EXPECT_EQ(error_of(j), "tokenizer.json: post_processor.type 'BertProcessing' is not supported");

  j = tiny_bpe();
  j["model"]["type"] = "Unigram";
  EXPECT_EQ(error_of(j), "tokenizer.json: model.type 'Unigram' is not supported");

  j = tiny_bpe();
  j["pre_tokenizer"] = json::parse(R"({"type": "Split", "pattern": {"String": " "}, "behavior": "Removed",
                                       "invert": false})");
  EXPECT_EQ(error_of(j), "tokenizer.json: pre_tokenizer.behavior 'Removed' is not supported (only Isolated)");
}

TEST(TokenizerJsonErrors, unsupported_bpe_options) {
  auto j = tiny_bpe();
  j["model"]["continuing_subword_prefix"] = "##";
  EXPECT_EQ(error_of(j), "tokenizer.json: model.continuing_subword_prefix is not supported (must be null)");
  j = tiny_bpe();
  j["model"]["dropout"] = 0.1;
  EXPECT_NE(error_of(j).find("model.dropout"), std::string::npos);
}

TEST(TokenizerJsonErrors, malformed_files) {
  EXPECT_NE(error_of(json::parse("[1, 2]")).find("tokenizer.json is not a JSON object"), std::string::npos);
  EXPECT_THROW(parse_json_tokenizer("{\"model\": ", "tokenizer.json", {}), TokenizerError);

  auto j = tiny_bpe();
  j["model"].erase("merges");
  EXPECT_EQ(error_of(j), "tokenizer.json: model.merges is missing");

  j = tiny_bpe();
  j["model"]["merges"] = {"a c"};
  EXPECT_EQ(error_of(j), "tokenizer.json: model.merges[0] refers to a token that is not in model.vocab");

  j = tiny_bpe();
  j["model"]["merges"] = {"abc"};
  EXPECT_NE(error_of(j).find("model.merges[0] 'abc' must be two tokens"), std::string::npos);

  j = tiny_bpe();
  j["model"]["unk_token"] = "<missing>";
  EXPECT_EQ(error_of(j), "tokenizer.json: model.unk_token '<missing>' is not in model.vocab");

  j = tiny_bpe();
  j["pre_tokenizer"] = json::parse(R"({"type": "Split", "pattern": {"Regex": "(unclosed"},
                                       "behavior": "Isolated", "invert": false})");
  EXPECT_NE(error_of(j).find("tokenizer.json: pre_tokenizer.pattern.Regex: regex does not compile"), std::string::npos);

  j = tiny_bpe();
  j["model"]["vocab"]["a"] = "zero";
  EXPECT_NE(error_of(j).find("is not an integer"), std::string::npos);
}

TEST(TokenizerErrors, bad_inputs_and_ids) {
  const auto tok = parse(tiny_bpe());
  EXPECT_THROW(tok->encode("a\xFF"), TokenizerError);
  EXPECT_THROW(tok->id_to_token(99), TokenizerError);
  EXPECT_THROW(tok->decode({0, 99}), TokenizerError);
  EXPECT_THROW(tok->id_to_token(-1), TokenizerError);
}

class TokenizerFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) / ("sg_tokenizer_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& bytes) {
    std::ofstream(dir_ / name, std::ios::binary) << bytes;
  }
  std::filesystem::path dir_;
};

TEST_F(TokenizerFiles, missing_files_are_errors) {
  EXPECT_THROW(Tokenizer::load(dir_.string()), TokenizerError);
  EXPECT_THROW(Tokenizer::from_json_file((dir_ / "tokenizer.json").string()), TokenizerError);
  EXPECT_THROW(Tokenizer::from_sentencepiece_file((dir_ / "tokenizer.model").string()), TokenizerError);
}

TEST_F(TokenizerFiles, config_names_specials_as_string_or_object) {
  write("tokenizer.json", tiny_bpe().dump());
  write("tokenizer_config.json", R"({"bos_token": {"content": "<s>"}, "eos_token": "<s>", "pad_token": null})");
  const auto tok = Tokenizer::load(dir_.string());
  EXPECT_EQ(tok->bos_id(), 5);
  EXPECT_EQ(tok->eos_id(), 5);
  EXPECT_EQ(tok->pad_id(), std::nullopt);

  write("tokenizer_config.json", R"({"eos_token": "</s>"})");
  EXPECT_THROW(Tokenizer::load(dir_.string()), TokenizerError);
  write("tokenizer_config.json", R"({"eos_token": 3)");
  EXPECT_THROW(Tokenizer::load(dir_.string()), TokenizerError);
}

TEST_F(TokenizerFiles, sentencepiece_errors_name_the_field) {
  write("tokenizer.model", "\xFF\xFF\xFF");
  EXPECT_THROW(Tokenizer::load(dir_.string()), TokenizerError);
  // ModelProto{trainer_spec{model_type: UNIGRAM}}: field 2 (bytes, 2 long) holding field 3 = 1.
  write("tokenizer.model", std::string("\x12\x02\x18\x01", 4));
  try {
    Tokenizer::load(dir_.string());
    FAIL() << "a Unigram model must be rejected";
  } catch (const TokenizerError& e) {
    EXPECT_STREQ(e.what(), "tokenizer.model: trainer_spec.model_type UNIGRAM is not supported (only BPE)");
  }
}

TEST(Utf8, lossy_decoding_replaces_maximal_ill_formed_subparts) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(utf8::decode_lossy("a\xF0\x9F"), "a" + fffd);               // truncated 4-byte sequence: one
  EXPECT_EQ(utf8::decode_lossy("\xC0\xAF"), fffd + fffd);               // overlong lead, stray continuation
  EXPECT_EQ(utf8::decode_lossy("\xED\xA0\x80"), fffd + fffd + fffd);    // surrogate: each byte
  EXPECT_EQ(utf8::decode_lossy("\xF0\x9F\x99\x82"), "\xF0\x9F\x99\x82");
}

}  // namespace
}  // namespace sg::model
