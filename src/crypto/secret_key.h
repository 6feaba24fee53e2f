// SecretKey: the only type that holds key material. Heap-allocated so its address is stable (the pages stay
// mlocked out of swap where the system allows it), wiped with sodium_memzero on destruction, move-only, and
// with no way to print it: there is no operator<<, no to_string, and hex() is deliberately absent.
#pragma once

#include <cstddef>
#include <cstdint>

#include "crypto/bytes.h"

namespace sg::crypto {

class SecretKey {
 public:
  explicit SecretKey(std::size_t size);                 // zero-filled
  [[nodiscard]] static SecretKey random(std::size_t size);
  [[nodiscard]] static SecretKey copy_of(ByteView bytes);
  // Moves key bytes that arrived in an ordinary buffer (e.g. read from a file) in, wiping the buffer.
  [[nodiscard]] static SecretKey take(Bytes& bytes);

  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  ByteView view() const { return {data_, size_}; }

 private:
  void release();
  uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
  bool locked_ = false;
};

}  // namespace sg::crypto
