// UTF-8 helpers shared by the tokenizers: character boundaries, code points, validation, and the lossy
// decoding Rust's String::from_utf8_lossy performs (Hugging Face decoders rely on its exact output).
#pragma once

#include <string>
#include <string_view>

namespace sg::model::utf8 {

// Byte length of the character starting with `lead` (1 for stray continuation or invalid bytes).
size_t char_len(unsigned char lead);

// Decodes the character at `pos` of valid UTF-8 text and advances `pos` past it.
char32_t next_code_point(std::string_view text, size_t& pos);

void append(std::string& out, char32_t code_point);

bool is_valid(std::string_view bytes);

// Invalid sequences become U+FFFD, one per maximal ill-formed subpart (as Rust's from_utf8_lossy).
std::string decode_lossy(std::string_view bytes);

}  // namespace sg::model::utf8
