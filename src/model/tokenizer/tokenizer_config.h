// The parts of transformers' tokenizer_config.json we use: special token names and the add_bos/add_eos
// flags of SentencePiece (LlamaTokenizer) checkpoints.
#pragma once

#include <optional>
#include <string>

namespace sg::model {

struct TokenizerConfig {
  std::optional<std::string> bos_token, eos_token, pad_token, unk_token;
  std::optional<bool> add_bos_token, add_eos_token;
};

// An absent file gives an empty config; a malformed one throws TokenizerError naming file and field.
// Token names may be strings or objects with "content" (AddedToken), null meaning none.
TokenizerConfig read_tokenizer_config(const std::string& path);

}  // namespace sg::model
