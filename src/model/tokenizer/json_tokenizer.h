// tokenizer.json (Hugging Face `tokenizers` 0.19 format) -> a PipelineTokenizer. Exposed so the fuzzer and the
// tests can parse from memory; other code calls Tokenizer::load / Tokenizer::from_json_file.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/tokenizer_config.h"

namespace sg::model {

// `file_name` prefixes every error ("tokenizer.json: model.type 'Unigram' is not supported").
std::unique_ptr<Tokenizer> parse_json_tokenizer(std::string_view json_text, const std::string& file_name,
                                                const TokenizerConfig& config);

}  // namespace sg::model
