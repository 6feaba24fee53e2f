#include "model/tokenizer/byte_level.h"

#include <array>
#include <unordered_map>

#include "model/tokenizer/utf8.h"

namespace sg::model::byte_level {
namespace {

struct Tables {
  std::array<std::string, 256> char_of_byte;
  std::unordered_map<char32_t, unsigned char> byte_of_char;

  Tables() {
    char32_t next_unprintable = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t cp = printable ? static_cast<char32_t>(b) : next_unprintable++;
      utf8::append(char_of_byte[b], cp);
      byte_of_char[cp] = static_cast<unsigned char>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

std::string encode(std::string_view bytes) {
  const Tables& t = tables();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) out += t.char_of_byte[static_cast<unsigned char>(c)];
  return out;
}

std::optional<std::string> decode(std::string_view token) {
  const Tables& t = tables();
  std::string out;
  for (size_t pos = 0; pos < token.size();) {
    const auto it = t.byte_of_char.find(utf8::next_code_point(token, pos));
    if (it == t.byte_of_char.end()) return std::nullopt;
    out += static_cast<char>(it->second);
  }
  return out;
}

}  // namespace sg::model::byte_level
