// Byte buffers and the little-endian field codec every wire format here is written with. ByteReader never
// reads past its end: each getter returns false instead, so a parser is a chain of checked reads.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace sg::crypto {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "tensor payloads carry raw little-endian bytes; big-endian hosts are not supported");

using Bytes = std::vector<uint8_t>;

// A non-owning view of bytes, with the conversions the frame code uses (written when the build was C++17, before
// std::span).
struct ByteView {
  const uint8_t* data = nullptr;
  std::size_t size = 0;

  ByteView() = default;
  ByteView(const uint8_t* d, std::size_t n) : data(d), size(n) {}
  ByteView(const Bytes& b) : data(b.data()), size(b.size()) {}
  ByteView(std::string_view s) : data(reinterpret_cast<const uint8_t*>(s.data())), size(s.size()) {}
  template <std::size_t N>
  ByteView(const uint8_t (&a)[N]) : data(a), size(N) {}
  template <class Array, class = decltype(std::declval<const Array&>().data()),
            class = std::enable_if_t<sizeof(typename Array::value_type) == 1>>
  ByteView(const Array& a) : data(reinterpret_cast<const uint8_t*>(a.data())), size(a.size()) {}

  [[nodiscard]] ByteView subview(std::size_t offset, std::size_t n) const { return {data + offset, n}; }
  [[nodiscard]] Bytes to_bytes() const { return Bytes(data, data + size); }
};

struct MutableByteView {
  uint8_t* data = nullptr;
  std::size_t size = 0;

  operator ByteView() const { return {data, size}; }
};

// Appends little-endian fields to a buffer.
class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(v); }
  void u16(uint16_t v) { put_le(v, 2); }
  void u32(uint32_t v) { put_le(v, 4); }
  void u64(uint64_t v) { put_le(v, 8); }
  void raw(ByteView b) { out_.insert(out_.end(), b.data, b.data + b.size); }
  void bytes32(ByteView b) { u32(uint32_t(b.size)); raw(b); }   // u32 length + bytes

 private:
  void put_le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(uint8_t(v >> (8 * i)));
  }
  Bytes& out_;
};

// ByteWriter's fields written at a pointer into a buffer already sized: never allocates (so it may run on the
// cipher pool's threads). The caller guarantees the room.
class PointerWriter {
 public:
  explicit PointerWriter(uint8_t* at) : at_(at) {}
  void u8(uint8_t v) { *at_++ = v; }
  void u16(uint16_t v) { put_le(v, 2); }
  void u32(uint32_t v) { put_le(v, 4); }
  void u64(uint64_t v) { put_le(v, 8); }
  void raw(ByteView b) { at_ = std::copy(b.data, b.data + b.size, at_); }

 private:
  void put_le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) *at_++ = uint8_t(v >> (8 * i));
  }
  uint8_t* at_;
};

// Reads little-endian fields from a view; every read is bounds-checked.
class ByteReader {
 public:
  explicit ByteReader(ByteView in) : in_(in) {}
  [[nodiscard]] bool u8(uint8_t& v) { return get_le(v); }
  [[nodiscard]] bool u16(uint16_t& v) { return get_le(v); }
  [[nodiscard]] bool u32(uint32_t& v) { return get_le(v); }
  [[nodiscard]] bool u64(uint64_t& v) { return get_le(v); }
  [[nodiscard]] bool raw(std::size_t n, ByteView& v);
  [[nodiscard]] bool bytes32(ByteView& v, std::size_t max_size);   // u32 length (<= max_size) + bytes
  [[nodiscard]] ByteView rest();                                  // everything left; consumes it
  [[nodiscard]] std::size_t remaining() const { return in_.size - pos_; }

 private:
  template <class U>
  bool get_le(U& v) {
    if (remaining() < sizeof(U)) return false;
    v = 0;
    for (std::size_t i = 0; i < sizeof(U); ++i) v = U(v | (U(in_.data[pos_ + i]) << (8 * i)));
    pos_ += sizeof(U);
    return true;
  }
  ByteView in_;
  std::size_t pos_ = 0;
};

[[nodiscard]] std::string to_hex(ByteView bytes);
// Lower- or upper-case hex, even length; nullopt on anything else.
[[nodiscard]] std::optional<Bytes> from_hex(std::string_view hex);
// Exactly N bytes in hex (a key, a nonce); nullopt on anything else.
template <std::size_t N>
[[nodiscard]] std::optional<std::array<uint8_t, N>> from_hex_array(std::string_view hex) {
  const auto bytes = from_hex(hex);
  if (!bytes || bytes->size() != N) return std::nullopt;
  std::array<uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

}  // namespace sg::crypto
