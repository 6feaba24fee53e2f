// The AEAD frame wire format. A frame is
//
//   header (32 bytes, sent in clear, authenticated as associated data)
//     0  u8   version            (kFrameVersion)
//     1  u8   payload kind       (PayloadKind: what the payload means to the receiver)
//     2  u16  reserved           (0)
//     4  u32  payload length     (bytes of ciphertext, = plaintext length)
//     8  u64  counter            (per direction, 1, 2, 3, ...; never reused under one key)
//    16  u8[16] session id
//   ciphertext (payload length bytes)
//   tag (16 bytes, Poly1305 over header + ciphertext)
//
// All integers little-endian. parse_frame_header checks structure only; AeadChannel checks the rest.
#pragma once

#include <cstddef>
#include <cstdint>

#include "crypto/error.h"
#include "crypto/key_exchange.h"

namespace sg::crypto {

inline constexpr uint8_t kFrameVersion = 1;
inline constexpr std::size_t kFrameHeaderBytes = 32;
inline constexpr std::size_t kFrameTagBytes = 16;
// Default per-frame limit; tensors larger than this are streamed in chunks (tensor_payload.h).
inline constexpr std::size_t kDefaultMaxFramePayload = std::size_t(16) << 20;

// What a frame's payload is. Receivers dispatch on it; later protocols add kinds here.
enum class PayloadKind : uint8_t {
  echo = 1,     // returned unchanged by the enclave: an end-to-end check of a session
  message = 2,  // an application message (format defined by the protocol using the session)
  tensor = 3,   // one chunk of a streamed tensor (tensor_payload.h)
  close = 4,    // empty: the peer is done; the enclave acknowledges with an empty close and frees the session
};

struct FrameHeader {
  uint8_t version = kFrameVersion;
  PayloadKind kind = PayloadKind::message;
  uint32_t length = 0;
  uint64_t counter = 0;
  SessionId session{};
};

[[nodiscard]] inline std::size_t frame_size(std::size_t payload_bytes) {
  return kFrameHeaderBytes + payload_bytes + kFrameTagBytes;
}

void write_frame_header(const FrameHeader& header, uint8_t out[kFrameHeaderBytes]);

// Parses and checks the header of `frame`: truncated, wrong_version, malformed (reserved bits, trailing bytes),
// oversize (length > max_payload). Does not authenticate anything.
[[nodiscard]] Result<FrameHeader> parse_frame_header(ByteView frame, std::size_t max_payload);

}  // namespace sg::crypto
