// GPT-2's reversible byte <-> printable-character map used by ByteLevel pre-tokenizers and decoders:
// printable Latin-1 bytes map to themselves, the other 68 bytes to U+0100.. in byte order.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace sg::model::byte_level {

// Each byte of `bytes` replaced by its character (UTF-8 encoded).
std::string encode(std::string_view bytes);

// The bytes behind a token made of mapped characters, or nullopt when some character is not in the map
// (the decoder then keeps the token's own UTF-8 bytes, as Hugging Face does).
std::optional<std::string> decode(std::string_view token);

}  // namespace sg::model::byte_level
