#include "crypto/secret_key.h"

#include <sodium.h>

#include <algorithm>
#include <utility>

#include "crypto/sodium_init.h"

namespace sg::crypto {

SecretKey::SecretKey(std::size_t size) : data_(new uint8_t[size]()), size_(size) {
  init_sodium();
  // "Where possible": RLIMIT_MEMLOCK may be tiny in containers; an unlocked key is still wiped.
  locked_ = sodium_mlock(data_, size_) == 0;
}

SecretKey SecretKey::random(std::size_t size) {
  SecretKey key(size);
  randombytes_buf(key.data_, size);
  return key;
}

SecretKey SecretKey::copy_of(ByteView bytes) {
  SecretKey key(bytes.size);
  std::copy(bytes.data, bytes.data + bytes.size, key.data_);
  return key;
}

SecretKey SecretKey::take(Bytes& bytes) {
  SecretKey key = copy_of(bytes);
  sodium_memzero(bytes.data(), bytes.size());
  bytes.clear();
  return key;
}

SecretKey::SecretKey(SecretKey&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      locked_(std::exchange(other.locked_, false)) {}

SecretKey& SecretKey::operator=(SecretKey&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    locked_ = std::exchange(other.locked_, false);
  }
  return *this;
}

SecretKey::~SecretKey() { release(); }

void SecretKey::release() {
  if (!data_) return;
  sodium_memzero(data_, size_);
  if (locked_) sodium_munlock(data_, size_);
  delete[] data_;
  data_ = nullptr;
  size_ = 0;
}

}  // namespace sg::crypto
