// Client sampling per round (docs/DESIGN.md §7 step 3): with `expected` clients and `per_round` of them in each round,
// every round's participants are drawn uniformly at random inside the server enclave (libsodium randombytes:
// the host cannot bias the draw) from the clients registered so far. A round's draw happens once every expected
// client has registered, or once `wait` has passed since the first registration and at least `per_round` have
// (then from those registered), so every draw has exactly `per_round` clients.
// Clients that are not drawn skip the round's local steps and continue from its global adapter.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "federated/aggregator.h"

namespace sg::federated {

class ClientSampler {
 public:
  ClientSampler(int expected, int per_round, std::chrono::milliseconds wait);

  bool sampling() const { return expected_ > per_round_; }
  void register_client(const std::string& client, Clock::time_point now);
  // Whether `client` takes part in `round`; nullopt while the round's draw is pending. Without sampling,
  // every client takes part.
  std::optional<bool> selected(const std::string& client, int round, Clock::time_point now);

 private:
  int expected_, per_round_;
  std::chrono::milliseconds wait_;
  std::vector<std::string> registered_;
  std::optional<Clock::time_point> first_registration_;
  std::map<int, std::set<std::string>> draws_;
};

}  // namespace sg::federated
