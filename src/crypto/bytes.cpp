#include "crypto/bytes.h"

#include <sodium.h>

namespace sg::crypto {

bool ByteReader::raw(std::size_t n, ByteView& v) {
  if (remaining() < n) return false;
  v = in_.subview(pos_, n);
  pos_ += n;
  return true;
}

bool ByteReader::bytes32(ByteView& v, std::size_t max_size) {
  uint32_t n = 0;
  return u32(n) && n <= max_size && raw(n, v);
}

ByteView ByteReader::rest() {
  ByteView v = in_.subview(pos_, remaining());
  pos_ = in_.size;
  return v;
}

std::string to_hex(ByteView bytes) {
  std::string hex(bytes.size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes.data, bytes.size);
  hex.pop_back();
  return hex;
}

std::optional<Bytes> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  if (hex.empty()) return Bytes{};  // sodium_hex2bin's output pointer must not be null, and Bytes{} has none
  Bytes out(hex.size() / 2);
  std::size_t written = 0;
  const char* end = nullptr;
  if (sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &written, &end) != 0 ||
      written != out.size() || end != hex.data() + hex.size()) {
    return std::nullopt;
  }
  return out;
}

}  // namespace sg::crypto
