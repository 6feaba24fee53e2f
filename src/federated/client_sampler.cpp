#include "federated/client_sampler.h"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

#include "crypto/sodium_init.h"

namespace sg::federated {

ClientSampler::ClientSampler(int expected, int per_round, std::chrono::milliseconds wait)
    : expected_(expected), per_round_(per_round), wait_(wait) {
  if (expected_ < per_round_)
    throw std::invalid_argument("federated: clients (" + std::to_string(expected_) + ") must be >= clients_per_round (" +
                                std::to_string(per_round_) + ")");
}

void ClientSampler::register_client(const std::string& client, Clock::time_point now) {
  if (std::find(registered_.begin(), registered_.end(), client) != registered_.end()) return;
  registered_.push_back(client);
  if (!first_registration_) first_registration_ = now;
}

std::optional<bool> ClientSampler::selected(const std::string& client, int round, Clock::time_point now) {
  if (!sampling()) return true;
  auto draw = draws_.find(round);
  if (draw == draws_.end()) {
    const bool everyone = int(registered_.size()) >= expected_;
    const bool waited = first_registration_ && now - *first_registration_ >= wait_ &&
                        int(registered_.size()) >= per_round_;
    if (!everyone && !waited) return std::nullopt;
    // A partial Fisher-Yates shuffle with the enclave's CSPRNG: the first per_round are the round's clients.
    crypto::init_sodium();
    auto pool = registered_;
    const std::size_t k = std::size_t(per_round_);
    for (std::size_t i = 0; i < k; ++i) {
      const std::size_t j = i + randombytes_uniform(uint32_t(pool.size() - i));
      std::swap(pool[i], pool[j]);
    }
    draw = draws_.emplace(round, std::set<std::string>(pool.begin(), pool.begin() + long(k))).first;
  }
  return draw->second.count(client) > 0;
}

}  // namespace sg::federated
