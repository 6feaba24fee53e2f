#include "model/tokenizer/pipeline_tokenizer.h"

#include <algorithm>

#include "model/tokenizer/utf8.h"

namespace sg::model {

PipelineTokenizer::PipelineTokenizer(Pipeline pipeline, const TokenizerConfig& config) : p_(std::move(pipeline)) {
  auto resolve = [&](const std::optional<std::string>& name, const char* field, std::optional<int32_t>& id) {
    if (!name) return;
    id = token_to_id(*name);
    if (!id) throw TokenizerError("tokenizer_config.json: " + std::string(field) + " '" + *name + "' is not in the vocabulary of " + p_.file);
  };
  resolve(config.bos_token, "bos_token", p_.bos);
  resolve(config.eos_token, "eos_token", p_.eos);
  resolve(config.pad_token, "pad_token", p_.pad);
}

std::vector<int32_t> PipelineTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  if (!utf8::is_valid(text)) throw TokenizerError("encode: the input is not valid UTF-8");
  std::vector<int32_t> ids;
  for (const Segment& segment : p_.added.split(text, p_.normalizer)) {
    if (segment.id) {
      ids.push_back(*segment.id);
      continue;
    }
    std::vector<PreToken> pieces{{segment.text, segment.at_input_start}};
    if (p_.pre_tokenizer) p_.pre_tokenizer(pieces);
    for (const PreToken& piece : pieces) p_.model->tokenize(piece.text, ids);
  }
  if (add_special_tokens) p_.post_processor.apply(ids);
  return ids;
}

std::string PipelineTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int32_t id : ids) {
    if (const AddedToken* added = p_.added.by_id(id)) {
      if (!(skip_special_tokens && added->special)) tokens.push_back(added->content);
    } else {
      tokens.push_back(id_to_token(id));
    }
  }
  if (p_.decoder) return run_decoder(p_.decoder, std::move(tokens));
  std::string text;
  for (size_t i = 0; i < tokens.size(); ++i) text += (i ? " " : "") + tokens[i];
  return text;
}

int32_t PipelineTokenizer::vocab_size() const {
  int32_t max_id = p_.model->max_id();
  for (const AddedToken& t : p_.added.tokens()) max_id = std::max(max_id, t.id);
  return max_id + 1;
}

std::optional<int32_t> PipelineTokenizer::token_to_id(std::string_view token) const {
  if (const AddedToken* added = p_.added.by_content(token)) return added->id;
  return p_.model->token_to_id(token);
}

std::string PipelineTokenizer::id_to_token(int32_t id) const {
  if (const AddedToken* added = p_.added.by_id(id)) return added->content;
  if (const std::string* token = p_.model->id_to_token(id)) return *token;
  throw TokenizerError(p_.file + ": token id " + std::to_string(id) + " is not in the vocabulary");
}

}  // namespace sg::model
