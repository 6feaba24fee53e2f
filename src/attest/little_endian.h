// A little-endian integer at a fixed offset of a structure whose size the caller has checked (quote bodies,
// SNP reports): the fixed-layout counterpart of crypto::ByteReader's sequential reads.
#pragma once

#include <cstddef>

#include "crypto/bytes.h"

namespace sg::attest {

template <class T>
[[nodiscard]] T load_le(crypto::ByteView v, std::size_t offset) {
  T out = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) out |= T(v.data[offset + i]) << (8 * i);
  return out;
}

}  // namespace sg::attest
