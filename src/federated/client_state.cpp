#include "federated/client_state.h"

#include <stdexcept>

#include "crypto/secret_key.h"

namespace sg::federated {
namespace {

constexpr const char* kSnapshot = "federated-client";
constexpr const char* kIdentity = "federated-client.identity";
constexpr const char* kMaskedRound = "federated-client.masked-round";
constexpr const char* kServerGeneration = "federated-client.server-generation";

std::string text_of(const crypto::Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }
crypto::Bytes bytes_of(const std::string& text) { return crypto::Bytes(text.begin(), text.end()); }

}  // namespace

crypto::SigningKeyPair ClientState::identity() {
  auto& seed = state_[kIdentity];
  if (seed.empty()) {
    const auto fresh = crypto::SigningKeyPair::generate().seed();
    seed.assign(fresh.data(), fresh.data() + fresh.size());
  }
  return crypto::SigningKeyPair::from_seed(crypto::SecretKey::copy_of(seed));
}

void ClientState::check_server_generation(uint64_t generation) {
  auto& seen = state_[kServerGeneration];
  const uint64_t newest = seen.empty() ? 0 : std::stoull(text_of(seen));
  if (generation < newest)
    throw std::invalid_argument("the server enclave's state is generation " + std::to_string(generation) +
                                ", older than generation " + std::to_string(newest) + " this client saw: its "
                                "host restored an older sealed state or started it afresh; refusing to go on");
  seen = bytes_of(std::to_string(generation));
}

void ClientState::refuse_a_second_mask(int round) const {
  const auto last = state_.find(kMaskedRound);
  if (last == state_.end()) return;
  const int newest = std::stoi(text_of(last->second));
  if (round <= newest)
    throw std::invalid_argument("this client enclave already masked its update for round " + std::to_string(newest) +
                                (round < newest ? " (asked now for the earlier round " + std::to_string(round) + ")" : "") +
                                "; it masks one per round, in increasing rounds (a second sum would reveal a "
                                "participant's update)");
}

void ClientState::mark_masked(int round) {
  refuse_a_second_mask(round);
  state_[kMaskedRound] = bytes_of(std::to_string(round));
}

std::string ClientState::snapshot() const {
  const auto it = state_.find(kSnapshot);
  return it == state_.end() ? std::string() : text_of(it->second);
}

void ClientState::save_snapshot(const std::string& bytes) { state_[kSnapshot] = bytes_of(bytes); }

}  // namespace sg::federated
