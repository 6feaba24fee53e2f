// tokenizer.json `model` of type BPE, as Hugging Face `tokenizers` 0.19: merges by rank with a priority queue,
// byte_fallback (<0xXX> tokens), unk_token with fuse_unk, ignore_merges, and a per-word cache.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/tokenizer/subword_model.h"

namespace sg::model {

class JsonNode;

class BpeModel final : public SubwordModel {
 public:
  // Throws TokenizerError naming the field for dropout, continuing_subword_prefix, end_of_word_suffix, or
  // merges whose parts are not in the vocabulary.
  explicit BpeModel(const JsonNode& node);

  void tokenize(std::string_view word, std::vector<int32_t>& ids) const override;

  std::optional<int32_t> token_to_id(std::string_view token) const override;
  const std::string* id_to_token(int32_t id) const override;
  int32_t max_id() const override { return max_id_; }

 private:
  std::vector<int32_t> merge_word(std::string_view word) const;

  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<int32_t, std::string> vocab_r_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::optional<int32_t> unk_id_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  int32_t max_id_ = -1;

  // Bounded like HF's: at most 10,000 words, none longer than 256 bytes (long segments without a
  // pre-tokenizer, e.g. Llama-2, would otherwise pin whole prompts in memory).
  static constexpr size_t kCacheCapacity = 10000;
  static constexpr size_t kCacheMaxWordBytes = 256;
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace sg::model
