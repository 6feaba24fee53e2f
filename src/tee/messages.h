// The host<->enclave message set (boundary protocol version 2). Every message is one SOCK_SEQPACKET datagram on the
// ring transport, or the same bytes back to back on a stream transport:
//
//   0  u8[4] magic "SGEB"     4  u16 version     6  u16 type     8  u16 flags     10  u16 reserved (0)
//  12  u32 inline payload length (must equal the datagram size - 16)
//  16  inline payload, or, with flag kInRing (ring transport only), a 16-byte RingSlice naming the payload in the
//      shared ring
//
// Host -> enclave requests each get exactly one reply: the reply type below, or `error` (a UTF-8 reason).
// Nothing here is secret: protected data crosses only as sealed AEAD frames or sealed state, opaque to the host.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "crypto/bytes.h"
#include "crypto/key_exchange.h"
#include "tee/error.h"

namespace sg::tee {

using crypto::ByteView;
using crypto::Bytes;

inline constexpr uint16_t kBoundaryVersion = 2;   // 2: frames only in lists; sealed state in parts
inline constexpr std::size_t kMessageHeaderBytes = 16;
// Inline payloads stay well under the socket buffer; anything larger travels through the ring.
inline constexpr std::size_t kMaxInlinePayload = 32 * 1024;
inline constexpr std::size_t kEvidenceNonceBytes = 32;
// A payload the ring cannot carry in one record crosses in parts (a reply: `*_more` parts fetched with next_part,
// then its last part; a sealed blob to unseal: unseal_state_more parts, then unseal_state), at most this many:
// 128 GiB through the default 64 MiB ring.
inline constexpr std::size_t kMaxParts = 4096;

enum class MsgType : uint16_t {
  // enclave -> host
  hello = 0x001,           // Hello: sent once when the enclave is ready
  ok = 0x002,              // empty
  error = 0x003,           // UTF-8 reason
  health_report = 0x004,   // HealthReport
  evidence = 0x005,        // EvidenceReply
  session_opened = 0x006,  // 16-byte session id
  frames = 0x007,          // frame list: sealed AEAD frames for the peer, opaque to the host
  sealed_state = 0x008,    // sealed blob (or its last part), opaque to the host
  frames_more = 0x009,     // frame list: the first parts of a reply too large for the ring; next_part gets more
  sealed_state_more = 0x00A,   // a sealed blob's first parts, when it is too large for the ring; next_part gets more
  // host -> enclave
  health = 0x101,          // empty -> health_report
  get_evidence = 0x102,    // 32-byte verifier nonce -> evidence
  open_session = 0x103,    // peer's 32-byte X25519 public key [+ peer attestation] -> session_opened
  // 0x104 carried one bare frame until every frame travelled in a frame_list; unknown now, like any other
  seal_state = 0x105,      // empty -> sealed_state, or sealed_state_more parts
  unseal_state = 0x106,    // sealed blob, or its last part after unseal_state_more parts -> ok
  stop = 0x107,            // empty -> ok, then the enclave exits 0
  next_part = 0x108,       // empty, after a *_more reply -> the reply's next part (*_more again, or the last)
  frame_list = 0x109,      // frame list: consecutive frames of one session, opened as one batch -> frames
  unseal_state_more = 0x10A,   // a part of a sealed blob too large for the ring -> ok; unseal_state brings the last
  install_key = 0x10B,     // a key broker's release (key_release.h) -> ok; only where the config pins a broker
};

// "get_evidence", ..., or "0x7777" for a type this build does not know.
[[nodiscard]] std::string msg_type_name(MsgType type);

struct Datagram {
  MsgType type = MsgType::ok;
  bool in_ring = false;
  ByteView payload;   // inline payload (a RingSlice when in_ring)
};

[[nodiscard]] Bytes encode_datagram(MsgType type, ByteView inline_payload, bool in_ring);
// The first kMessageHeaderBytes of a message whose payload (sent after it) is `payload_bytes` long.
[[nodiscard]] Bytes encode_message_header(MsgType type, std::size_t payload_bytes, bool in_ring);

struct MessageHeader {
  MsgType type = MsgType::ok;
  bool in_ring = false;
  uint32_t payload_bytes = 0;   // as declared; the caller checks it against what it accepts
};
// Checks magic, version, flags and reserved in the first kMessageHeaderBytes of `bytes`.
[[nodiscard]] Result<MessageHeader> parse_message_header(ByteView bytes);
// Checks magic, version, flags, reserved and that the declared length matches the datagram exactly.
[[nodiscard]] Result<Datagram> parse_datagram(ByteView datagram);

struct Hello {
  uint16_t protocol = kBoundaryVersion;
  std::string backend;
};
[[nodiscard]] Bytes encode(const Hello& hello);
[[nodiscard]] Result<Hello> parse_hello(ByteView payload);

struct HealthReport {
  uint64_t requests_served = 0;
  uint32_t sessions = 0;
};
[[nodiscard]] Bytes encode(const HealthReport& report);
[[nodiscard]] Result<HealthReport> parse_health_report(ByteView payload);

struct EvidenceReply {
  Bytes evidence;                    // evidence.h serialisation
  crypto::KxPublicKey enclave_key{}; // the enclave's ephemeral X25519 key that the evidence binds
};
[[nodiscard]] Bytes encode(const EvidenceReply& reply);
[[nodiscard]] Result<EvidenceReply> parse_evidence_reply(ByteView payload);

// Frame lists (the payload of frames, frames_more and frame_list): u32 count, then per frame u32 length + bytes.
//
// layout_frame_lists makes room for frames of the given sizes, as consecutive lists of at most `max_bytes` each
// (a frame larger than that gets a list of its own; a reply the ring cannot carry in one record travels as
// frames_more ... frames); slots[i] is where frame i is to be written, so a sender seals straight into the list.
struct FrameListLayout {
  std::vector<Bytes> lists;
  std::vector<crypto::MutableByteView> slots;
};
[[nodiscard]] FrameListLayout layout_frame_lists(const std::vector<std::size_t>& frame_bytes, std::size_t max_bytes);
[[nodiscard]] Bytes encode_frame_list(const std::vector<Bytes>& frames);
// The frames of a list, as views into `payload` (mutable views into a buffer the caller owns, to open in place).
[[nodiscard]] Result<std::vector<ByteView>> parse_frame_list(ByteView payload);
[[nodiscard]] Result<std::vector<crypto::MutableByteView>> parse_frame_list(crypto::MutableByteView payload);

}  // namespace sg::tee
