// Decoders: token strings -> text, as Hugging Face `tokenizers` decode_chain. Parsed from tokenizer.json
// (ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence) or composed by the SentencePiece
// tokenizer from the same building blocks.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace sg::model {

class JsonNode;

// Rewrites the list of token strings; the decoded text is the concatenation of the result.
using Decoder = std::function<void(std::vector<std::string>&)>;

// Throws TokenizerError naming the field for any other decoder type.
Decoder parse_decoder(const JsonNode& node);

Decoder replace_decoder(std::string from, std::string to);
Decoder byte_fallback_decoder();   // runs of <0xXX> tokens -> their UTF-8 text (one U+FFFD per byte if invalid)
Decoder fuse_decoder();            // all tokens -> one
Decoder strip_decoder(char32_t content, size_t start, size_t stop);
Decoder sequence_decoder(std::vector<Decoder> steps);

std::string run_decoder(const Decoder& decoder, std::vector<std::string> tokens);

}  // namespace sg::model
