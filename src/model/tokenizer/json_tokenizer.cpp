#include "model/tokenizer/json_tokenizer.h"

#include <nlohmann/json.hpp>

#include "model/tokenizer/bpe_model.h"
#include "model/tokenizer/json_node.h"
#include "model/tokenizer/pipeline_tokenizer.h"

namespace sg::model {
namespace {

std::vector<AddedToken> parse_added_tokens(const JsonNode& list) {
  std::vector<AddedToken> tokens;
  for (size_t i = 0; i < list.size(); ++i) {
    const JsonNode node = list.at(i);
    AddedToken t;
    t.id = static_cast<int32_t>(node.at("id").as_int());
    t.content = node.string_at("content");
    t.special = node.bool_or("special", false);
    t.normalized = node.bool_or("normalized", !t.special);
    t.lstrip = node.bool_or("lstrip", false);
    t.rstrip = node.bool_or("rstrip", false);
    t.single_word = node.bool_or("single_word", false);
    tokens.push_back(std::move(t));
  }
  return tokens;
}

Pipeline parse_pipeline(const JsonNode& root) {
  Pipeline p;
  p.file = root.file();
  const JsonNode model = root.at("model");
  if (model.type() != "BPE") model.unsupported_type();
  p.model = std::make_unique<BpeModel>(model);
  if (const auto node = root.find("normalizer")) p.normalizer = parse_normalizer(*node);
  if (const auto node = root.find("pre_tokenizer")) p.pre_tokenizer = parse_pre_tokenizer(*node);
  if (const auto node = root.find("post_processor")) p.post_processor = parse_post_processor(*node);
  if (const auto node = root.find("decoder")) p.decoder = parse_decoder(*node);
  if (const auto node = root.find("added_tokens")) p.added = AddedVocabulary(parse_added_tokens(*node), p.normalizer);
  // Without tokenizer_config.json, the template's own specials are the best evidence of bos/eos.
  if (!p.post_processor.before.empty()) p.bos = p.post_processor.before.front();
  if (!p.post_processor.after.empty()) p.eos = p.post_processor.after.back();
  return p;
}

}  // namespace

std::unique_ptr<Tokenizer> parse_json_tokenizer(std::string_view json_text, const std::string& file_name,
                                                const TokenizerConfig& config) {
  try {
    const nlohmann::json json = nlohmann::json::parse(json_text);
    const JsonNode root(json, file_name, "");
    if (!json.is_object()) root.fail("is not a JSON object");
    return std::make_unique<PipelineTokenizer>(parse_pipeline(root), config);
  } catch (const nlohmann::json::exception& e) {
    throw TokenizerError(file_name + ": " + e.what());
  }
}

}  // namespace sg::model
