// The subword model step of the pipeline: tokenizer.json BPE (bpe_model.h) or SentencePiece BPE
// (sentencepiece_bpe.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sg::model {

class SubwordModel {
 public:
  virtual ~SubwordModel() = default;
  // Appends the ids of one pre-tokenized, normalized piece.
  virtual void tokenize(std::string_view piece, std::vector<int32_t>& ids) const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual const std::string* id_to_token(int32_t id) const = 0;  // nullptr when unknown
  virtual int32_t max_id() const = 0;
};

}  // namespace sg::model
