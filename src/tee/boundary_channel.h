// BoundaryChannel: one end of the host<->enclave boundary, used by both processes. Two transports carry the same
// messages (messages.h) with the same checks:
//   - RingChannel (ring_channel.h): a SOCK_SEQPACKET socketpair for control messages plus a shared-memory ring for
//     large payloads — the fastest, for an enclave process on the same kernel as its host (sim, SGX without Gramine
//     sockets);
//   - StreamChannel (stream_channel.h): one stream socket (TCP, or vsock across a confidential VM's boundary) with
//     every payload inline — for Gramine enclaves and confidential VMs, where no memory is shared with the host.
// Receiving is defensive on both: sizes are capped, headers checked, and nothing the host can still change is
// parsed in place.
#pragma once

#include <cstddef>

#include "tee/messages.h"

namespace sg::tee {

struct Message {
  MsgType type = MsgType::ok;
  Bytes payload;
};

class BoundaryChannel {
 public:
  virtual ~BoundaryChannel() = default;

  // Errc::closed when the peer is gone; Errc::protocol for a payload over max_payload().
  [[nodiscard]] virtual Status send(MsgType type, ByteView payload) = 0;
  // Waits up to `timeout_ms` (negative: forever). Errc::timeout, Errc::closed, or Errc::protocol for a message that
  // violates the format (the channel stays usable after it unless the transport lost its framing; then the next
  // receive says Errc::closed).
  [[nodiscard]] virtual Result<Message> receive(int timeout_ms) = 0;
  // Sends `message` (an encode_datagram result) as is. The host is untrusted, so nothing stops it doing this;
  // tests use it to play a malicious host.
  [[nodiscard]] virtual Status send_raw(ByteView message) = 0;

  // The largest payload one message can carry.
  virtual std::size_t max_payload() const = 0;
  // Everything the host can read or write besides the messages themselves (the ring's shared memory; nothing for
  // a stream).
  virtual ByteView shared_memory() const = 0;
};

}  // namespace sg::tee
