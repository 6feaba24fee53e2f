// tokenizer.json `normalizer`: NFC/NFD/NFKC/NFKD (utf8proc), Prepend, Replace, Sequence.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace sg::model {

class JsonNode;

// Maps a piece of valid UTF-8 text to its normalized form.
using Normalizer = std::function<std::string(std::string_view)>;

// Throws TokenizerError naming the field for any other normalizer type.
Normalizer parse_normalizer(const JsonNode& node);

}  // namespace sg::model
