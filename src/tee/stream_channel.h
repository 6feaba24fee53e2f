// StreamChannel: the boundary over one stream socket (TCP or vsock; socket_endpoint.h), for enclaves that share no
// memory with their host (Gramine, confidential VMs). Messages are messages.h's bytes back to back, every payload
// inline, so nothing the host can change after the fact is ever read: each message is copied out of the socket
// once, into a buffer the receiver owns, before anything parses it.
//
// Framing is checked as on the ring: a payload over the limit, or one that names the ring, is drained and refused
// and the channel serves on; a header that is not ours means the byte stream has lost its framing, so that
// receive fails with Errc::protocol (the enclave answers with the reason) and every later one with Errc::closed.
// A send that misses its deadline (the host gives one: its reply timeout) takes no more sends: part of a message
// may be on the wire.
#pragma once

#include <chrono>
#include <optional>

#include "tee/boundary_channel.h"
#include "tee/unique_fd.h"

namespace sg::tee {

// The default payload limit: the same as one half of the default 64 MiB ring, so both transports split large
// replies and sealed state into the same parts.
inline constexpr std::size_t kDefaultStreamPayloadBytes = std::size_t(32) << 20;

class StreamChannel final : public BoundaryChannel {
 public:
  // `send_timeout`: the time one whole message may take to go out; none blocks until it does.
  StreamChannel(UniqueFd socket, std::size_t max_payload,
                std::optional<std::chrono::milliseconds> send_timeout = std::nullopt);

  [[nodiscard]] Status send(MsgType type, ByteView payload) override;
  [[nodiscard]] Result<Message> receive(int timeout_ms) override;
  [[nodiscard]] Status send_raw(ByteView message) override;

  std::size_t max_payload() const override { return max_payload_; }
  ByteView shared_memory() const override { return {}; }

 private:
  using Deadline = std::optional<std::chrono::steady_clock::time_point>;
  [[nodiscard]] Status wait_until_ready(short events, const Deadline& deadline) const;
  [[nodiscard]] Status write_all(const ByteView* parts, std::size_t count);
  [[nodiscard]] Status read_exact(uint8_t* out, std::size_t bytes, const Deadline& deadline);
  // Reads and drops `bytes`, keeping the framing of what follows.
  [[nodiscard]] Status drain(std::size_t bytes, const Deadline& deadline);

  UniqueFd socket_;
  std::size_t max_payload_;
  std::optional<std::chrono::milliseconds> send_timeout_;
  bool framing_lost_ = false;   // receiving
  bool sending_lost_ = false;   // a send timed out part-way: later sends say Errc::closed
};

}  // namespace sg::tee
