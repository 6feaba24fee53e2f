#include "crypto/frame.h"

#include <algorithm>
#include <string>

namespace sg::crypto {

void write_frame_header(const FrameHeader& header, uint8_t out[kFrameHeaderBytes]) {
  PointerWriter w(out);   // no allocation: seal_frames writes headers on the cipher pool's threads
  w.u8(header.version);
  w.u8(uint8_t(header.kind));
  w.u16(0);
  w.u32(header.length);
  w.u64(header.counter);
  w.raw(header.session);
}

Result<FrameHeader> parse_frame_header(ByteView frame, std::size_t max_payload) {
  if (frame.size < kFrameHeaderBytes + kFrameTagBytes) {
    return fail(Errc::truncated, "frame of " + std::to_string(frame.size) + " bytes is shorter than header + tag (" +
                                     std::to_string(kFrameHeaderBytes + kFrameTagBytes) + ")");
  }
  ByteReader r(frame);
  FrameHeader h;
  uint8_t kind = 0;
  uint16_t reserved = 0;
  ByteView session;
  if (!(r.u8(h.version) && r.u8(kind) && r.u16(reserved) && r.u32(h.length) && r.u64(h.counter) &&
        r.raw(h.session.size(), session))) {
    return fail(Errc::truncated, "frame header is truncated");
  }
  std::copy(session.data, session.data + session.size, h.session.begin());
  h.kind = PayloadKind(kind);
  if (h.version != kFrameVersion) {
    return fail(Errc::wrong_version, "frame version " + std::to_string(h.version) + " is not the supported version " +
                                         std::to_string(kFrameVersion));
  }
  if (reserved != 0) return fail(Errc::malformed, "frame header reserved field is not zero");
  if (h.length > max_payload) {
    return fail(Errc::oversize, "frame payload of " + std::to_string(h.length) + " bytes exceeds the limit of " +
                                    std::to_string(max_payload));
  }
  const std::size_t expected = frame_size(h.length);
  if (frame.size < expected) {
    return fail(Errc::truncated, "frame is truncated: " + std::to_string(frame.size) + " of " +
                                     std::to_string(expected) + " bytes");
  }
  if (frame.size > expected) {
    return fail(Errc::malformed, "frame has " + std::to_string(frame.size - expected) + " trailing bytes");
  }
  return h;
}

}  // namespace sg::crypto
