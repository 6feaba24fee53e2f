#include "tee/ring_channel.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace sg::tee {
namespace {

// The largest datagram either side accepts: header + the inline limit.
constexpr std::size_t kMaxDatagram = kMessageHeaderBytes + kMaxInlinePayload;

ShmRing half(const SharedMemory& memory, bool first) {
  const std::size_t n = memory.size() / 2;
  return ShmRing(memory.data() + (first ? 0 : n), n);
}

}  // namespace

RingChannel::RingChannel(UniqueFd socket, SharedMemory memory, Side side)
    : socket_(std::move(socket)),
      memory_(std::move(memory)),
      tx_ring_(half(memory_, side == Side::host)),
      rx_ring_(half(memory_, side == Side::enclave)),
      datagram_(kMaxDatagram + 1) {}

Status RingChannel::send(MsgType type, ByteView payload) {
  if (payload.size <= kMaxInlinePayload) return send_raw(encode_datagram(type, payload, false));
  auto slice = tx_ring_.put(payload);
  if (!slice) return crypto::unexpected(slice.error());
  return send_raw(encode_datagram(type, encode(*slice), true));
}

Status RingChannel::send_raw(ByteView datagram) {
  while (::send(socket_.get(), datagram.data, datagram.size, MSG_NOSIGNAL) < 0) {
    if (errno == EINTR) continue;
    if (errno == EPIPE || errno == ECONNRESET) return fail(Errc::closed, "the other end closed the channel");
    return fail(Errc::io, std::string("send on the control socket: ") + std::strerror(errno));
  }
  return {};
}

Result<Message> RingChannel::receive(int timeout_ms) {
  pollfd p{socket_.get(), POLLIN, 0};
  int ready = 0;
  while ((ready = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  if (ready < 0) return fail(Errc::io, std::string("poll on the control socket: ") + std::strerror(errno));
  if (ready == 0) return fail(Errc::timeout, "no message within " + std::to_string(timeout_ms) + " ms");

  // MSG_TRUNC makes recv return the datagram's real length, so an oversize one is detected (and its excess
  // discarded by the kernel) rather than silently cut.
  ssize_t n = 0;
  while ((n = ::recv(socket_.get(), datagram_.data(), datagram_.size(), MSG_TRUNC)) < 0 && errno == EINTR) {
  }
  if (n == 0 || (n < 0 && errno == ECONNRESET)) return fail(Errc::closed, "the other end closed the channel");
  if (n < 0) return fail(Errc::io, std::string("recv on the control socket: ") + std::strerror(errno));
  if (std::size_t(n) > kMaxDatagram) {
    return fail(Errc::protocol, "message of " + std::to_string(n) + " bytes exceeds the " + std::to_string(kMaxDatagram) +
                                    "-byte limit");
  }
  auto datagram = parse_datagram(ByteView(datagram_.data(), std::size_t(n)));
  if (!datagram) return crypto::unexpected(datagram.error());
  if (!datagram->in_ring) return Message{datagram->type, datagram->payload.to_bytes()};
  auto slice = parse_ring_slice(datagram->payload);
  if (!slice) return crypto::unexpected(slice.error());
  auto payload = rx_ring_.take(*slice);
  if (!payload) return crypto::unexpected(payload.error());
  return Message{datagram->type, std::move(*payload)};
}

}  // namespace sg::tee
