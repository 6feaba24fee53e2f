// HostChannel: one end of the host<->enclave boundary — a SOCK_SEQPACKET socket for control messages plus the
// shared ring for payloads too large to travel inline. Both processes use this class; `side` picks which half of
// the shared memory each one writes. Receiving is defensive on both ends: datagrams are size-capped (an oversize
// one is discarded by the kernel past the cap and reported), headers are checked, ring references are
// bounds-checked, and ring payloads are copied out before use.
#pragma once

#include <cstddef>

#include "tee/messages.h"
#include "tee/shm_ring.h"
#include "tee/unique_fd.h"

namespace sg::tee {

struct Message {
  MsgType type = MsgType::ok;
  Bytes payload;
};

class HostChannel {
 public:
  enum class Side { host, enclave };

  HostChannel(UniqueFd socket, SharedMemory memory, Side side);

  // Sends inline when the payload fits kMaxInlinePayload, through the ring otherwise.
  // Errc::closed when the peer is gone.
  [[nodiscard]] Status send(MsgType type, ByteView payload);
  // Waits up to `timeout_ms` (negative: forever). Errc::timeout, Errc::closed, or Errc::protocol for a message
  // that violates the format (the channel stays usable after a protocol error).
  [[nodiscard]] Result<Message> receive(int timeout_ms);
  // Sends `datagram` as is. The host is untrusted, so nothing stops it doing this; tests use it to play a
  // malicious host.
  [[nodiscard]] Status send_raw(ByteView datagram);

  // The largest payload one message can carry (through the ring).
  std::size_t max_payload() const { return tx_ring_.size(); }

  // Everything the host can read or write in shared memory (both halves).
  ByteView shared_memory() const { return {memory_.data(), memory_.size()}; }

 private:
  UniqueFd socket_;
  SharedMemory memory_;
  ShmRing tx_ring_;
  ShmRing rx_ring_;
  Bytes datagram_;
};

}  // namespace sg::tee
