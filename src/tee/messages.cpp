#include "tee/messages.h"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace sg::tee {
namespace {

constexpr uint8_t kMagic[4] = {'S', 'G', 'E', 'B'};
constexpr uint16_t kFlagInRing = 1;
constexpr std::size_t kMaxBackendName = 64;
// Frame lists: u32 count, then per frame u32 length + bytes.
constexpr std::size_t kListCountBytes = 4;
constexpr std::size_t kListLengthBytes = 4;

Error malformed(MsgType type, const std::string& what) {
  return {Errc::protocol, msg_type_name(type) + " payload is malformed: " + what};
}

}  // namespace

std::string msg_type_name(MsgType type) {
  switch (type) {
    case MsgType::hello: return "hello";
    case MsgType::ok: return "ok";
    case MsgType::error: return "error";
    case MsgType::health_report: return "health_report";
    case MsgType::evidence: return "evidence";
    case MsgType::session_opened: return "session_opened";
    case MsgType::frames: return "frames";
    case MsgType::sealed_state: return "sealed_state";
    case MsgType::frames_more: return "frames_more";
    case MsgType::sealed_state_more: return "sealed_state_more";
    case MsgType::health: return "health";
    case MsgType::get_evidence: return "get_evidence";
    case MsgType::open_session: return "open_session";
    case MsgType::frame_list: return "frame_list";
    case MsgType::seal_state: return "seal_state";
    case MsgType::unseal_state: return "unseal_state";
    case MsgType::stop: return "stop";
    case MsgType::next_part: return "next_part";
    case MsgType::unseal_state_more: return "unseal_state_more";
    case MsgType::install_key: return "install_key";
  }
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%04x", unsigned(type));
  return hex;
}

Bytes encode_message_header(MsgType type, std::size_t payload_bytes, bool in_ring) {
  Bytes out;
  out.reserve(kMessageHeaderBytes);
  crypto::ByteWriter w(out);
  w.raw(kMagic);
  w.u16(kBoundaryVersion);
  w.u16(uint16_t(type));
  w.u16(in_ring ? kFlagInRing : 0);
  w.u16(0);
  w.u32(uint32_t(payload_bytes));
  return out;
}

Bytes encode_datagram(MsgType type, ByteView inline_payload, bool in_ring) {
  Bytes out = encode_message_header(type, inline_payload.size, in_ring);
  out.reserve(kMessageHeaderBytes + inline_payload.size);
  out.insert(out.end(), inline_payload.data, inline_payload.data + inline_payload.size);
  return out;
}

Result<MessageHeader> parse_message_header(ByteView bytes) {
  crypto::ByteReader r(bytes);
  ByteView magic;
  uint16_t version = 0, type = 0, flags = 0, reserved = 0;
  uint32_t length = 0;
  if (!(r.raw(4, magic) && r.u16(version) && r.u16(type) && r.u16(flags) && r.u16(reserved) && r.u32(length))) {
    return fail(Errc::protocol, "message of " + std::to_string(bytes.size) + " bytes is shorter than its header");
  }
  if (!std::equal(magic.data, magic.data + 4, kMagic)) return fail(Errc::protocol, "message has a bad magic");
  if (version != kBoundaryVersion) {
    return fail(Errc::protocol, "boundary protocol version " + std::to_string(version) + " is not " +
                                    std::to_string(kBoundaryVersion));
  }
  if ((flags & ~kFlagInRing) != 0 || reserved != 0) return fail(Errc::protocol, "message has unknown flags");
  return MessageHeader{MsgType(type), (flags & kFlagInRing) != 0, length};
}

Result<Datagram> parse_datagram(ByteView datagram) {
  auto header = parse_message_header(datagram);
  if (!header) return crypto::unexpected(header.error());
  const ByteView payload(datagram.data + kMessageHeaderBytes, datagram.size - kMessageHeaderBytes);
  if (header->payload_bytes != payload.size) {
    return fail(Errc::protocol, "message declares " + std::to_string(header->payload_bytes) +
                                    " payload bytes but carries " + std::to_string(payload.size));
  }
  return Datagram{header->type, header->in_ring, payload};
}

Bytes encode(const Hello& hello) {
  Bytes out;
  crypto::ByteWriter w(out);
  w.u16(hello.protocol);
  w.bytes32(ByteView(hello.backend));
  return out;
}

Result<Hello> parse_hello(ByteView payload) {
  crypto::ByteReader r(payload);
  Hello hello;
  ByteView backend;
  if (!(r.u16(hello.protocol) && r.bytes32(backend, kMaxBackendName) && r.remaining() == 0)) {
    return crypto::unexpected(malformed(MsgType::hello, "bad fields"));
  }
  hello.backend.assign(reinterpret_cast<const char*>(backend.data), backend.size);
  return hello;
}

Bytes encode(const HealthReport& report) {
  Bytes out;
  crypto::ByteWriter w(out);
  w.u64(report.requests_served);
  w.u32(report.sessions);
  return out;
}

Result<HealthReport> parse_health_report(ByteView payload) {
  crypto::ByteReader r(payload);
  HealthReport report;
  if (!(r.u64(report.requests_served) && r.u32(report.sessions) && r.remaining() == 0)) {
    return crypto::unexpected(malformed(MsgType::health_report, "bad fields"));
  }
  return report;
}

Bytes encode(const EvidenceReply& reply) {
  Bytes out;
  crypto::ByteWriter w(out);
  w.raw(reply.enclave_key);
  w.bytes32(reply.evidence);
  return out;
}

Result<EvidenceReply> parse_evidence_reply(ByteView payload) {
  crypto::ByteReader r(payload);
  EvidenceReply reply;
  ByteView key, evidence;
  if (!(r.raw(reply.enclave_key.size(), key) && r.bytes32(evidence, payload.size) && r.remaining() == 0)) {
    return crypto::unexpected(malformed(MsgType::evidence, "bad fields"));
  }
  std::copy(key.data, key.data + key.size, reply.enclave_key.begin());
  reply.evidence = evidence.to_bytes();
  return reply;
}

FrameListLayout layout_frame_lists(const std::vector<std::size_t>& frame_bytes, std::size_t max_bytes) {
  // Which frames each list holds, and its size.
  std::vector<std::pair<std::size_t, std::size_t>> ranges;   // [first frame, end frame)
  std::vector<std::size_t> sizes;
  std::size_t first = 0, bytes = kListCountBytes;
  for (std::size_t f = 0; f < frame_bytes.size(); ++f) {
    const std::size_t add = kListLengthBytes + frame_bytes[f];
    if (f != first && bytes + add > max_bytes) {
      ranges.emplace_back(first, f);
      sizes.push_back(bytes);
      first = f;
      bytes = kListCountBytes;
    }
    bytes += add;
  }
  ranges.emplace_back(first, frame_bytes.size());
  sizes.push_back(bytes);

  FrameListLayout layout;
  layout.lists.reserve(ranges.size());
  for (std::size_t l = 0; l < ranges.size(); ++l) {
    Bytes& list = layout.lists.emplace_back();
    list.reserve(sizes[l]);
    crypto::ByteWriter w(list);
    w.u32(uint32_t(ranges[l].second - ranges[l].first));
    for (std::size_t f = ranges[l].first; f < ranges[l].second; ++f) {
      w.u32(uint32_t(frame_bytes[f]));
      list.resize(list.size() + frame_bytes[f]);
    }
    // The list is complete (no more growth), so its slots stay where they are.
    std::size_t at = kListCountBytes;
    for (std::size_t f = ranges[l].first; f < ranges[l].second; ++f) {
      layout.slots.push_back({list.data() + at + kListLengthBytes, frame_bytes[f]});
      at += kListLengthBytes + frame_bytes[f];
    }
  }
  return layout;
}

Bytes encode_frame_list(const std::vector<Bytes>& frames) {
  std::vector<std::size_t> sizes;
  for (const Bytes& f : frames) sizes.push_back(f.size());
  auto layout = layout_frame_lists(sizes, std::numeric_limits<std::size_t>::max());
  for (std::size_t i = 0; i < frames.size(); ++i) std::copy(frames[i].begin(), frames[i].end(), layout.slots[i].data);
  return std::move(layout.lists.front());
}

Result<std::vector<ByteView>> parse_frame_list(ByteView payload) {
  auto bad = [](const std::string& what) { return fail(Errc::protocol, "frame list is malformed: " + what); };
  crypto::ByteReader r(payload);
  uint32_t count = 0;
  if (!r.u32(count)) return bad("missing count");
  if (count > r.remaining() / kListLengthBytes) return bad("count " + std::to_string(count) + " exceeds its bytes");
  std::vector<ByteView> frames;
  frames.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    ByteView frame;
    if (!r.bytes32(frame, payload.size)) return bad("truncated frame");
    frames.push_back(frame);
  }
  if (r.remaining() != 0) return bad("trailing bytes");
  return frames;
}

Result<std::vector<crypto::MutableByteView>> parse_frame_list(crypto::MutableByteView payload) {
  auto frames = parse_frame_list(ByteView(payload));
  if (!frames) return crypto::unexpected(frames.error());
  std::vector<crypto::MutableByteView> mutable_frames;
  mutable_frames.reserve(frames->size());
  for (const ByteView& f : *frames) mutable_frames.push_back({payload.data + (f.data - payload.data), f.size});
  return mutable_frames;
}

}  // namespace sg::tee
