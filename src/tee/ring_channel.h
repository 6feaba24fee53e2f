// RingChannel: the boundary over a SOCK_SEQPACKET socket for control messages plus the shared ring for payloads
// too large to travel inline. `side` picks which half of the shared memory each process writes. Datagrams are
// size-capped (an oversize one is discarded by the kernel past the cap and reported), ring references are
// bounds-checked, and ring payloads are copied out before use.
#pragma once

#include "tee/boundary_channel.h"
#include "tee/shm_ring.h"
#include "tee/unique_fd.h"

namespace sg::tee {

class RingChannel final : public BoundaryChannel {
 public:
  enum class Side { host, enclave };

  RingChannel(UniqueFd socket, SharedMemory memory, Side side);

  // Inline when the payload fits kMaxInlinePayload, through the ring otherwise.
  [[nodiscard]] Status send(MsgType type, ByteView payload) override;
  [[nodiscard]] Result<Message> receive(int timeout_ms) override;
  [[nodiscard]] Status send_raw(ByteView datagram) override;

  std::size_t max_payload() const override { return tx_ring_.size(); }
  ByteView shared_memory() const override { return {memory_.data(), memory_.size()}; }

 private:
  UniqueFd socket_;
  SharedMemory memory_;
  ShmRing tx_ring_;
  ShmRing rx_ring_;
  Bytes datagram_;
};

}  // namespace sg::tee
