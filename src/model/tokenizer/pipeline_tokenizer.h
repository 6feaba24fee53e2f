// The encode/decode pipeline both file formats reduce to (Hugging Face `tokenizers` order):
// added tokens split out -> normalizer -> pre-tokenizer -> subword model -> post-processor;
// ids -> token strings (specials optionally skipped) -> decoder.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/tokenizer/added_tokens.h"
#include "model/tokenizer/decoders.h"
#include "model/tokenizer/normalizers.h"
#include "model/tokenizer/post_processor.h"
#include "model/tokenizer/pre_tokenizers.h"
#include "model/tokenizer/subword_model.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/tokenizer_config.h"

namespace sg::model {

struct Pipeline {
  std::string file;  // for error messages
  std::unique_ptr<const SubwordModel> model;
  AddedVocabulary added;
  Normalizer normalizer;      // empty: none
  PreTokenizer pre_tokenizer; // empty: the whole segment is one piece
  PostProcessor post_processor;
  Decoder decoder;            // empty: tokens joined with " "
  std::optional<int32_t> bos, eos, pad;
};

class PipelineTokenizer final : public Tokenizer {
 public:
  // bos/eos/pad named by `config` override the pipeline's own; a name not in the vocabulary throws.
  PipelineTokenizer(Pipeline pipeline, const TokenizerConfig& config);

  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const override;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const override;

  int32_t vocab_size() const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  std::string id_to_token(int32_t id) const override;
  std::optional<int32_t> bos_id() const override { return p_.bos; }
  std::optional<int32_t> eos_id() const override { return p_.eos; }
  std::optional<int32_t> pad_id() const override { return p_.pad; }

 private:
  Pipeline p_;
};

}  // namespace sg::model
