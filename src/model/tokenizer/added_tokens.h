// Added tokens (tokenizer.json `added_tokens`, SentencePiece specials): found in the input before the model
// runs and emitted as their own ids, as Hugging Face's AddedVocabulary::extract_and_normalize does.
// Supported flags: special, normalized, lstrip, rstrip, single_word.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/tokenizer/normalizers.h"

namespace sg::model {

struct AddedToken {
  int32_t id = 0;
  std::string content;
  bool special = false;
  bool normalized = false;  // matched against the normalized text (in its normalized form)
  bool lstrip = false;      // swallows whitespace on its left
  bool rstrip = false;      // swallows whitespace on its right
  bool single_word = false; // only matches when not inside a word
};

// A piece of the input after added-token extraction: an added token's id (text empty), or normalized text
// for the model.
struct Segment {
  std::optional<int32_t> id;
  std::string text;
  bool at_input_start = false;
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // `normalizer` (may be empty) is the tokenizer's; normalized tokens are matched in normalized form.
  AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer& normalizer);

  // 1. non-normalized tokens are split out of the raw text; 2. each remaining piece is normalized and the
  // normalized tokens are split out of it. Empty pieces are dropped.
  std::vector<Segment> split(std::string_view text, const Normalizer& normalizer) const;

  const AddedToken* by_id(int32_t id) const;
  const AddedToken* by_content(std::string_view content) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  struct Pattern {
    std::string text;
    size_t token;  // index into tokens_
  };
  // Patterns bucketed by their first byte, so a scan tries only the candidates for the byte at hand.
  using PatternSet = std::array<std::vector<Pattern>, 256>;
  static void add(PatternSet& set, std::string text, size_t token);
  static const Pattern* longest_at(std::string_view text, size_t pos, const PatternSet& patterns);
  // Leftmost-longest matches of `patterns` in `text` with the strip/single-word rules applied.
  std::vector<Segment> find(std::string_view text, bool at_input_start, const PatternSet& patterns) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> index_of_id_;
  std::unordered_map<std::string, size_t> index_of_content_;
  PatternSet raw_patterns_;
  PatternSet normalized_patterns_;
};

}  // namespace sg::model
