#include "crypto/aead_channel.h"

#include <sodium.h>

#include <algorithm>
#include <limits>
#include <string>

#include "crypto/cipher_pool.h"

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

Unexpected<Error> bad_tag(uint64_t counter) {
  return fail(Errc::bad_tag,
              "frame " + std::to_string(counter) + " failed authentication: tampered, or sealed under another key");
}

Direction opposite(Direction d) {
  return d == Direction::client_to_server ? Direction::server_to_client : Direction::client_to_server;
}

}  // namespace

AeadChannel::AeadChannel(SessionKeys keys, std::size_t max_payload)
    : keys_(std::move(keys)), max_payload_(std::min<std::size_t>(max_payload, std::numeric_limits<uint32_t>::max())) {}

Status AeadChannel::seal_frame(PayloadKind kind, ByteView payload, Bytes& frame) {
  if (payload.size > max_payload_) {
    return fail(Errc::oversize, "payload of " + std::to_string(payload.size) + " bytes exceeds the frame limit of " +
                                    std::to_string(max_payload_) + "; stream it in chunks");
  }
  frame.resize(frame_size(payload.size));
  return seal_batch({{kind, payload.size}}, {{frame.data(), frame.size()}}, [&](std::size_t) { return payload.data; });
}

Status AeadChannel::seal_frames(const std::vector<FrameSpec>& specs, const std::vector<MutableByteView>& frames,
                               const PayloadWriter& write) {
  return seal_batch(specs, frames, [&](std::size_t i) -> const uint8_t* {
    uint8_t* payload = frames[i].data + kFrameHeaderBytes;
    write(i, {payload, specs[i].length});
    return payload;
  });
}

Status AeadChannel::seal_frames(const std::vector<FrameSpec>& specs, const std::vector<MutableByteView>& frames,
                               const std::vector<ByteView>& plaintexts) {
  if (plaintexts.size() != specs.size()) return fail(Errc::malformed, "seal_frames: one plaintext per payload");
  auto overlaps = [](ByteView a, MutableByteView b) {
    return a.size > 0 && b.size > 0 && a.data < b.data + b.size && b.data < a.data + a.size;
  };
  for (std::size_t i = 0; i < plaintexts.size(); ++i) {
    if (plaintexts[i].size != specs[i].length)
      return fail(Errc::malformed, "seal_frames: plaintext " + std::to_string(i) + " is not its payload's length");
    for (const MutableByteView& frame : frames)
      if (overlaps(plaintexts[i], frame))
        return fail(Errc::malformed, "seal_frames: plaintext " + std::to_string(i) + " overlaps a frame buffer");
  }
  return seal_batch(specs, frames, [&](std::size_t i) { return plaintexts[i].data; });
}

Status AeadChannel::seal_batch(const std::vector<FrameSpec>& specs, const std::vector<MutableByteView>& frames,
                              const std::function<const uint8_t*(std::size_t i)>& plaintext) {
  if (specs.size() != frames.size()) return fail(Errc::malformed, "seal_frames: one frame buffer per payload");
  for (std::size_t i = 0; i < specs.size(); ++i) {
    if (specs[i].length > max_payload_) {
      return fail(Errc::oversize, "payload " + std::to_string(i) + " of " + std::to_string(specs[i].length) +
                                      " bytes exceeds the frame limit of " + std::to_string(max_payload_));
    }
    if (frames[i].size != frame_size(specs[i].length)) {
      return fail(Errc::malformed, "seal_frames: frame buffer " + std::to_string(i) + " is " +
                                       std::to_string(frames[i].size) + " bytes, not " +
                                       std::to_string(frame_size(specs[i].length)));
    }
  }
  if (specs.size() > std::numeric_limits<uint64_t>::max() - next_send_) {
    return fail(Errc::exhausted, "frame counter exhausted; open a new session");
  }
  // The counters are spent before any frame is sealed, so whatever happens below none is ever used twice.
  const uint64_t first = next_send_;
  next_send_ += specs.size();
  for_each_frame(specs.size(), [&](std::size_t i) { seal_into(specs[i].kind, first + i, plaintext(i), frames[i]); });
  return {};
}

void AeadChannel::seal_into(PayloadKind kind, uint64_t counter, const uint8_t* plaintext, MutableByteView frame) const {
  FrameHeader header;
  header.kind = kind;
  header.length = uint32_t(frame.size - kFrameHeaderBytes - kFrameTagBytes);
  header.counter = counter;
  header.session = keys_.id;
  uint8_t* ad = frame.data;
  uint8_t* ciphertext = ad + kFrameHeaderBytes;
  uint8_t* tag = ciphertext + header.length;
  write_frame_header(header, ad);
  const Nonce nonce = frame_nonce(counter, keys_.tx_direction);
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(ciphertext, tag, nullptr, plaintext, header.length, ad,
                                                      kFrameHeaderBytes, nullptr, nonce.data(), keys_.tx.data());
}

Result<FrameHeader> AeadChannel::check_header(ByteView frame, uint64_t counter) const {
  auto header = parse_frame_header(frame, max_payload_);
  if (!header) return unexpected(header.error());
  const FrameHeader& h = *header;
  if (h.session != keys_.id) {
    return fail(Errc::wrong_session, "frame belongs to session " + to_hex(h.session) + ", not " + to_hex(keys_.id));
  }
  if (h.counter < counter) {
    return fail(Errc::replayed, "frame counter " + std::to_string(h.counter) + " was already used (last accepted " +
                                    std::to_string(counter - 1) + "): replayed or stale frame");
  }
  if (h.counter != counter) {
    return fail(Errc::counter_gap, "frame counter " + std::to_string(h.counter) + " skips ahead of " +
                                       std::to_string(counter) + ": a frame is missing or reordered");
  }
  return header;
}

bool AeadChannel::decrypt(const FrameHeader& h, ByteView frame, uint8_t* out) const {
  const uint8_t* ciphertext = frame.data + kFrameHeaderBytes;
  const uint8_t* tag = ciphertext + h.length;
  const Nonce nonce = frame_nonce(h.counter, opposite(keys_.tx_direction));
  return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(out, nullptr, ciphertext, h.length, tag, frame.data,
                                                             kFrameHeaderBytes, nonce.data(), keys_.rx.data()) == 0;
}

Result<FrameHeader> AeadChannel::open_frame_into(ByteView frame, MutableByteView out) {
  auto header = check_header(frame, last_received_ + 1);
  if (!header) return header;
  if (out.size < header->length) {
    return fail(Errc::buffer_too_small, "output buffer of " + std::to_string(out.size) + " bytes is smaller than the " +
                                            std::to_string(header->length) + "-byte payload");
  }
  if (!decrypt(*header, frame, out.data)) return bad_tag(header->counter);
  last_received_ = header->counter;
  return header;
}

Result<OpenedFrame> AeadChannel::open_frame(ByteView frame) {
  auto opened = open_frames({frame});
  if (!opened) return unexpected(opened.error());
  return std::move(opened->front());
}

Result<std::vector<FrameHeader>> AeadChannel::open_batch(
    const std::vector<ByteView>& frames, const std::function<uint8_t*(std::size_t, const FrameHeader&)>& out) {
  auto in_batch = [&](std::size_t i, const Error& e) -> Unexpected<Error> {
    if (frames.size() == 1) return unexpected(e);
    return fail(e.code, "frame " + std::to_string(i + 1) + " of " + std::to_string(frames.size()) + ": " + e.message);
  };
  // Every header first (cheap, and nothing is allocated for a frame before its header passed), then the tags.
  std::vector<FrameHeader> headers;
  std::vector<uint8_t*> plaintext;
  headers.reserve(frames.size());
  plaintext.reserve(frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto header = check_header(frames[i], last_received_ + 1 + i);
    if (!header) return in_batch(i, header.error());
    headers.push_back(*header);
    plaintext.push_back(out(i, *header));
  }
  std::vector<char> authentic(frames.size(), 0);   // not vector<bool>: threads write neighbouring elements
  for_each_frame(frames.size(), [&](std::size_t i) { authentic[i] = decrypt(headers[i], frames[i], plaintext[i]); });
  const auto forged = std::find(authentic.begin(), authentic.end(), 0);
  if (forged != authentic.end()) {
    for (std::size_t i = 0; i < frames.size(); ++i)
      if (headers[i].length > 0) sodium_memzero(plaintext[i], headers[i].length);
    const std::size_t i = std::size_t(forged - authentic.begin());
    return in_batch(i, bad_tag(headers[i].counter).error);
  }
  last_received_ += frames.size();
  return headers;
}

Result<std::vector<OpenedFrame>> AeadChannel::open_frames(const std::vector<ByteView>& frames) {
  std::vector<Bytes> payloads;
  payloads.reserve(frames.size());
  auto headers = open_batch(frames, [&](std::size_t, const FrameHeader& h) {
    return payloads.emplace_back(h.length).data();
  });
  if (!headers) return unexpected(headers.error());
  std::vector<OpenedFrame> opened;
  for (std::size_t i = 0; i < frames.size(); ++i) opened.push_back({(*headers)[i], std::move(payloads[i])});
  return opened;
}

Result<std::vector<OpenedInPlace>> AeadChannel::open_frames_in_place(const std::vector<MutableByteView>& frames) {
  auto headers = open_batch({frames.begin(), frames.end()}, [&](std::size_t i, const FrameHeader&) {
    return frames[i].data + kFrameHeaderBytes;
  });
  if (!headers) return unexpected(headers.error());
  std::vector<OpenedInPlace> opened;
  for (std::size_t i = 0; i < frames.size(); ++i)
    opened.push_back({(*headers)[i], ByteView(frames[i].data + kFrameHeaderBytes, (*headers)[i].length)});
  return opened;
}

}  // namespace sg::crypto
