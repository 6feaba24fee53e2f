#include "crypto/otp_channel.h"

#include <sodium.h>

#include <algorithm>
#include <limits>
#include <string>

namespace sg::crypto {
namespace {

using Nonce = std::array<uint8_t, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES>;

// nonce = counter (u64 LE) || direction || zeros. Keys are already per direction and per session; putting the
// direction in the nonce as well keeps the nonces of the two directions disjoint even if a key were shared.
Nonce frame_nonce(uint64_t counter, Direction direction) {
  Nonce nonce{};
  for (int i = 0; i < 8; ++i) nonce[i] = uint8_t(counter >> (8 * i));
  nonce[8] = uint8_t(direction);
  return nonce;
}

Direction opposite(Direction d) {
  return d == Direction::client_to_server ? Direction::server_to_client : Direction::client_to_server;
}

}  // namespace

OtpChannel::OtpChannel(SessionKeys keys, std::size_t max_payload)
    : keys_(std::move(keys)), max_payload_(std::min<std::size_t>(max_payload, std::numeric_limits<uint32_t>::max())) {}

Status OtpChannel::seal_frame(PayloadKind kind, ByteView payload, Bytes& frame) {
  if (payload.size > max_payload_) {
    return fail(Errc::oversize, "payload of " + std::to_string(payload.size) + " bytes exceeds the frame limit of " +
                                    std::to_string(max_payload_) + "; stream it in chunks");
  }
  if (next_send_ == std::numeric_limits<uint64_t>::max()) {
    return fail(Errc::exhausted, "frame counter exhausted; open a new session");
  }
  FrameHeader header;
  header.kind = kind;
  header.length = uint32_t(payload.size);
  header.counter = next_send_;
  header.session = keys_.id;

  frame.resize(frame_size(payload.size));
  uint8_t* ad = frame.data();
  uint8_t* ciphertext = ad + kFrameHeaderBytes;
  uint8_t* tag = ciphertext + payload.size;
  write_frame_header(header, ad);
  const Nonce nonce = frame_nonce(header.counter, keys_.tx_direction);
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(ciphertext, tag, nullptr, payload.data, payload.size, ad,
                                                      kFrameHeaderBytes, nullptr, nonce.data(), keys_.tx.data());
  ++next_send_;
  return {};
}

Result<FrameHeader> OtpChannel::open_frame_into(ByteView frame, MutableByteView out) {
  auto header = parse_frame_header(frame, max_payload_);
  if (!header) return unexpected(header.error());
  const FrameHeader& h = *header;
  if (h.session != keys_.id) {
    return fail(Errc::wrong_session, "frame belongs to session " + to_hex(h.session) + ", not " + to_hex(keys_.id));
  }
  if (h.counter <= last_received_) {
    return fail(Errc::replayed, "frame counter " + std::to_string(h.counter) + " was already used (last accepted " +
                                    std::to_string(last_received_) + "): replayed or stale frame");
  }
  if (h.counter != last_received_ + 1) {
    return fail(Errc::counter_gap, "frame counter " + std::to_string(h.counter) + " skips ahead of " +
                                       std::to_string(last_received_ + 1) + ": a frame is missing or reordered");
  }
  if (out.size < h.length) {
    return fail(Errc::buffer_too_small, "output buffer of " + std::to_string(out.size) + " bytes is smaller than the " +
                                            std::to_string(h.length) + "-byte payload");
  }
  const uint8_t* ciphertext = frame.data + kFrameHeaderBytes;
  const uint8_t* tag = ciphertext + h.length;
  const Nonce nonce = frame_nonce(h.counter, opposite(keys_.tx_direction));
  if (crypto_aead_xchacha20poly1305_ietf_decrypt_detached(out.data, nullptr, ciphertext, h.length, tag, frame.data,
                                                          kFrameHeaderBytes, nonce.data(), keys_.rx.data()) != 0) {
    return fail(Errc::bad_tag, "frame " + std::to_string(h.counter) +
                                   " failed authentication: tampered, or sealed under another key");
  }
  last_received_ = h.counter;
  return header;
}

Result<OpenedFrame> OtpChannel::open_frame(ByteView frame) {
  auto header = parse_frame_header(frame, max_payload_);
  if (!header) return unexpected(header.error());
  OpenedFrame opened;
  opened.payload.resize(header->length);
  auto result = open_frame_into(frame, {opened.payload.data(), opened.payload.size()});
  if (!result) return unexpected(result.error());
  opened.header = *result;
  return opened;
}

}  // namespace sg::crypto
