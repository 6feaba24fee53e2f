// SentencePiece tokenizer.model (BPE type) -> a PipelineTokenizer with the semantics of transformers'
// LlamaTokenizer (slow, legacy): bos/eos/unk/pad split out of the text first, each remaining segment
// encoded by SentencePiece, bos/eos added per add_bos_token/add_eos_token (defaults true/false). Decoding is
// that of the LlamaTokenizerFast converted from the same file.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/tokenizer_config.h"

namespace sg::model {

// `file_name` prefixes every error ("tokenizer.model: trainer_spec.model_type UNIGRAM is not supported").
std::unique_ptr<Tokenizer> parse_sentencepiece_tokenizer(std::string_view bytes, const std::string& file_name,
                                                         const TokenizerConfig& config);

}  // namespace sg::model
