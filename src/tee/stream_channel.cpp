#include "tee/stream_channel.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <new>

namespace sg::tee {
namespace {

Error closed() { return {Errc::closed, "the other end closed the channel"}; }

}  // namespace

StreamChannel::StreamChannel(UniqueFd socket, std::size_t max_payload,
                             std::optional<std::chrono::milliseconds> send_timeout)
    : socket_(std::move(socket)),
      max_payload_(std::min<std::size_t>(max_payload, std::numeric_limits<uint32_t>::max())),
      send_timeout_(send_timeout) {}

Status StreamChannel::send(MsgType type, ByteView payload) {
  if (payload.size > max_payload_) {
    return fail(Errc::protocol, "payload of " + std::to_string(payload.size) + " bytes exceeds the " +
                                    std::to_string(max_payload_) + "-byte limit of the stream");
  }
  // The header alone, then the payload straight from the caller's buffer (no joined copy).
  const Bytes header = encode_message_header(type, payload.size, false);
  const ByteView parts[] = {header, payload};
  return write_all(parts, payload.size == 0 ? 1 : 2);
}

Status StreamChannel::send_raw(ByteView message) { return write_all(&message, 1); }

Status StreamChannel::wait_until_ready(short events, const Deadline& deadline) const {
  for (;;) {
    int wait_ms = -1;
    if (deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*deadline - std::chrono::steady_clock::now());
      wait_ms = int(std::max<long long>(0, left.count()));
    }
    pollfd p{socket_.get(), events, 0};
    const int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return fail(Errc::io, std::string("poll on the boundary stream: ") + std::strerror(errno));
    if (ready == 0) return fail(Errc::timeout, "the boundary stream was not ready within the deadline");
    return {};
  }
}

Status StreamChannel::write_all(const ByteView* parts, std::size_t count) {
  if (sending_lost_) return crypto::unexpected(closed());
  Deadline deadline;
  if (send_timeout_) deadline = std::chrono::steady_clock::now() + *send_timeout_;
  std::size_t index = 0, offset = 0;
  while (index < count) {
    // With a deadline, wait for room and never block in sendmsg: a peer reading a trickle cannot stretch it.
    if (deadline) {
      if (auto ready = wait_until_ready(POLLOUT, deadline); !ready) {
        if (ready.error().code != Errc::timeout) return ready;
        sending_lost_ = true;   // part of a message may have gone out
        return fail(Errc::timeout, "the other end did not take the message within " +
                                       std::to_string(send_timeout_->count()) + " ms");
      }
    }
    iovec iov[2];
    std::size_t n = 0;
    for (std::size_t i = index; i < count && n < 2; ++i, ++n) {
      const std::size_t skip = i == index ? offset : 0;
      iov[n] = {const_cast<uint8_t*>(parts[i].data) + skip, parts[i].size - skip};
    }
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = n;
    const ssize_t sent = ::sendmsg(socket_.get(), &message, MSG_NOSIGNAL | (deadline ? MSG_DONTWAIT : 0));
    if (sent < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (sent < 0 && (errno == EPIPE || errno == ECONNRESET)) return crypto::unexpected(closed());
    if (sent < 0) return fail(Errc::io, std::string("send on the boundary stream: ") + std::strerror(errno));
    offset += std::size_t(sent);
    while (index < count && offset >= parts[index].size) offset -= parts[index++].size;
  }
  return {};
}

Status StreamChannel::read_exact(uint8_t* out, std::size_t bytes, const Deadline& deadline) {
  while (bytes > 0) {
    if (auto ready = wait_until_ready(POLLIN, deadline); !ready) return ready;
    const ssize_t n = ::recv(socket_.get(), out, bytes, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0 || (n < 0 && errno == ECONNRESET)) return crypto::unexpected(closed());
    if (n < 0) return fail(Errc::io, std::string("recv on the boundary stream: ") + std::strerror(errno));
    out += n;
    bytes -= std::size_t(n);
  }
  return {};
}

Status StreamChannel::drain(std::size_t bytes, const Deadline& deadline) {
  uint8_t sink[64 * 1024];
  while (bytes > 0) {
    const std::size_t n = std::min(bytes, sizeof sink);
    if (auto read = read_exact(sink, n, deadline); !read) return read;
    bytes -= n;
  }
  return {};
}

Result<Message> StreamChannel::receive(int timeout_ms) {
  if (framing_lost_) return crypto::unexpected(closed());
  Deadline deadline;
  if (timeout_ms >= 0) deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);

  uint8_t header_bytes[kMessageHeaderBytes];
  // Until a message has begun, a timeout leaves the framing intact; once it has, any failure loses it.
  pollfd p{socket_.get(), POLLIN, 0};
  int ready = 0;
  while ((ready = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  if (ready < 0) return fail(Errc::io, std::string("poll on the boundary stream: ") + std::strerror(errno));
  if (ready == 0) return fail(Errc::timeout, "no message within " + std::to_string(timeout_ms) + " ms");
  auto lost = [this](Error error) -> Result<Message> {
    framing_lost_ = true;
    if (error.code == Errc::closed) return crypto::unexpected(std::move(error));
    error.code = Errc::protocol;
    error.message += "; the stream has lost its framing and closes";
    return crypto::unexpected(std::move(error));
  };
  if (auto read = read_exact(header_bytes, sizeof header_bytes, deadline); !read) return lost(read.error());
  auto header = parse_message_header(ByteView(header_bytes, sizeof header_bytes));
  if (!header) return lost(header.error());

  const std::size_t length = header->payload_bytes;
  if (length > max_payload_ || header->in_ring) {
    if (auto drained = drain(length, deadline); !drained) return lost(drained.error());
    if (header->in_ring)
      return fail(Errc::protocol, "the stream transport carries payloads inline; a ring reference is refused");
    return fail(Errc::protocol, "message of " + std::to_string(length) + " bytes exceeds the " +
                                    std::to_string(max_payload_) + "-byte limit of the stream");
  }
  Message message{header->type, {}};
  try {
    message.payload.resize(length);
  } catch (const std::bad_alloc&) {
    if (auto drained = drain(length, deadline); !drained) return lost(drained.error());
    return fail(Errc::protocol, "no memory for a message of " + std::to_string(length) + " bytes");
  }
  if (auto read = read_exact(message.payload.data(), length, deadline); !read) return lost(read.error());
  return message;
}

}  // namespace sg::tee
