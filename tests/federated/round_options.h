// The rounds the aggregator unit tests run: two, of `clients` each, closing at 10 s with `quorum`.
#pragma once

#include <chrono>

#include "federated/aggregator.h"

namespace sg::federated {

inline RoundOptions options(int clients, int quorum) {
  RoundOptions o;
  o.rounds = 2;
  o.clients_per_round = clients;
  o.quorum = quorum;
  o.round_timeout = std::chrono::seconds(10);
  return o;
}

}  // namespace sg::federated
