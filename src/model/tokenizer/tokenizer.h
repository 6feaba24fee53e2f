// Tokenizers for Hugging Face checkpoints: tokenizer.json (primary) or SentencePiece tokenizer.model.
// Torch-free. Semantics follow Hugging Face `tokenizers` exactly (the oracle tests compare token ids).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sg::model {

// A tokenizer file we cannot read or a component we do not implement. One line naming file and field.
struct TokenizerError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Loads `dir/tokenizer.json`, else `dir/tokenizer.model`; reads `dir/tokenizer_config.json` when present
  // for bos/eos/pad names and add_bos/add_eos flags of sentencepiece checkpoints.
  static std::unique_ptr<Tokenizer> load(const std::string& dir);
  static std::unique_ptr<Tokenizer> from_json_file(const std::string& path);
  static std::unique_ptr<Tokenizer> from_sentencepiece_file(const std::string& path);

  // As HF `tokenizer.encode(text, add_special_tokens=...)`: added tokens split out first, then
  // normalizer, pre-tokenizer, model, post-processor (e.g. a BOS template).
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special_tokens = true) const = 0;
  // As HF `tokenizer.decode(ids, skip_special_tokens=...)`.
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const = 0;

  virtual int32_t vocab_size() const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual std::string id_to_token(int32_t id) const = 0;   // throws TokenizerError out of range
  virtual std::optional<int32_t> bos_id() const = 0;
  virtual std::optional<int32_t> eos_id() const = 0;
  virtual std::optional<int32_t> pad_id() const = 0;
};

}  // namespace sg::model
