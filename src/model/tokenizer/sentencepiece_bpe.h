// SentencePiece's BPE model (bpe_model.cc) over a normalized string: start from characters (user-defined
// pieces kept whole), repeatedly merge the adjacent pair whose concatenation is the highest-scoring piece
// (leftmost on ties), then map leftovers to byte pieces (byte_fallback) or unk.
#pragma once

#include <unordered_map>
#include <unordered_set>

#include "model/tokenizer/subword_model.h"

namespace sg::model {

struct SentencePieceEntry {
  enum class Type { kNormal, kUnknown, kControl, kUserDefined, kByte };
  std::string piece;
  float score = 0;
  Type type = Type::kNormal;
};

class SentencePieceBpe final : public SubwordModel {
 public:
  SentencePieceBpe(std::vector<SentencePieceEntry> pieces, int32_t unk_id, bool byte_fallback);

  void tokenize(std::string_view normalized, std::vector<int32_t>& ids) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  const std::string* id_to_token(int32_t id) const override;
  int32_t max_id() const override { return static_cast<int32_t>(pieces_.size()) - 1; }

 private:
  // Length of the user-defined piece at the start of `text`, or 0.
  size_t user_defined_prefix(std::string_view text) const;
  void emit(std::string_view symbol, std::vector<int32_t>& ids) const;

  std::vector<SentencePieceEntry> pieces_;
  std::unordered_map<std::string, int32_t> id_of_piece_;
  std::unordered_set<std::string> user_defined_;
  int32_t unk_id_;
  bool byte_fallback_;
};

}  // namespace sg::model
