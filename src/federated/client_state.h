// What a federated client enclave keeps in its trusted state (sealed by its host after every round, restored
// before its first session): its long-term identity, the newest server-enclave generation it saw, the last round
// it masked an update for, and its training snapshot (client_adapter.h).
#pragma once

#include <string>

#include "crypto/signing.h"
#include "tee/enclave_runtime.h"

namespace sg::federated {

class ClientState {
 public:
  explicit ClientState(tee::TrustedState& state) : state_(state) {}

  // This enclave's identity: made at its first start and kept, so a restarted client is the same client to the
  // aggregator.
  crypto::SigningKeyPair identity();

  // The server enclave's sealed state must not go back: throws when `generation` is older than one this enclave
  // saw (an operator that restored an old aggregator blob to replay a round with other participants), else
  // remembers it.
  void check_server_generation(uint64_t generation);

  // One masked update per round, ever: two masked sums of one round over different sets would give the server
  // the difference, one client's update. A high-water mark: refuse_a_second_mask throws for every round at or
  // below the last one mark_masked recorded (a server that reports an older round again gets nothing).
  void refuse_a_second_mask(int round) const;
  void mark_masked(int round);

  // The training snapshot (optimiser and adapter shapes as archive bytes); empty when none was saved.
  std::string snapshot() const;
  void save_snapshot(const std::string& bytes);

 private:
  tee::TrustedState& state_;
};

}  // namespace sg::federated
