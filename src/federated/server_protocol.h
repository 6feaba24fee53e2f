// Federation (docs/DESIGN.md §7 steps 1 and 3): the requests a client enclave sends the server enclave
// (aggregator_service.h) through its own AEAD session; the client's host relays only sealed frames
// (client_protocol.h: to_server, from_server). Each op declared once (rpc/op.h). A client is its enclave's
// attested identity (peer_attestation.h), the same across its sessions and restarts.
#pragma once

#include <cstdint>
#include <string>

#include "rpc/op.h"

namespace sg::federated::ops {

// Where the federation stands; registers the client for sampling.
struct Status {
  static constexpr const char* kName = "status";
  using Request = rpc::Empty;
  struct Reply {
    int open_round = 0;
    int rounds = 0;
    bool finished = false;
    bool secure_aggregation = false;
    uint64_t state_generation = 0;   // of the server enclave's sealed state; client enclaves refuse an older one
  };
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Status::Reply, open_round, rounds, finished, secure_aggregation,
                                                state_generation)

// A request about one round.
struct RoundRequest {
  int round = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(RoundRequest, round)

// Whether this client trains in `round` (client_sampler.h); undecided until the round's draw is made.
struct Selected {
  static constexpr const char* kName = "selected";
  using Request = RoundRequest;
  struct Reply {
    bool decided = false;
    bool selected = false;
  };
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Selected::Reply, decided, selected)

// The update of one round. The host asks for it; the client enclave writes `samples` (the examples it trained
// on) and attaches its adapter, or with `masked` its masked fixed-point update (tensor "masked", I32 words)
// described by `layout` ([[name, shape]...]). Once the round closed: accepted false, late true. A second
// submission of one client in a round is accepted with already_counted (its first counts).
struct Submit {
  static constexpr const char* kName = "submit";
  struct Request {
    int round = 0;
    int64_t samples = 0;
    bool masked = false;
    nlohmann::json layout = nlohmann::json::array();
  };
  struct Reply {
    bool accepted = false;
    bool late = false;
    bool already_counted = false;
    int round = 0;
    int64_t samples = 0;
  };
};
// `round` is required; the host leaves `samples` and `layout` to the client enclave, which fills them in, and
// the server enclave refuses a submission of fewer than one sample or a masked one whose layout does not fit.
inline void to_json(nlohmann::json& j, const Submit::Request& r) {
  j = {{"round", r.round}, {"samples", r.samples}, {"masked", r.masked}, {"layout", r.layout}};
}
inline void from_json(const nlohmann::json& j, Submit::Request& r) {
  j.at("round").get_to(r.round);
  r.samples = j.value("samples", int64_t{0});
  r.masked = j.value("masked", false);
  r.layout = j.value("layout", nlohmann::json::array());
}
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Submit::Reply, accepted, late, already_counted, round, samples)

// The global adapter after `round` (its tensors beside the reply; none when the round closed without an
// aggregate), or closed false while the round is open.
struct Fetch {
  static constexpr const char* kName = "fetch";
  using Request = RoundRequest;
  struct Reply {
    bool closed = false;
    int round = 0;
    int contributors = 0;
    int open_round = 0;
  };
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Fetch::Reply, closed, round, contributors, open_round)

// Secure aggregation (masked_rounds.h), step 1: the client enclave adds a fresh mask key for the round, signed
// by its identity (secure_aggregation.h: MaskKeyAnnouncement).
struct Join {
  static constexpr const char* kName = "join";
  struct Request {
    int round = 0;
    nlohmann::json announcement;   // {identity, mask_key, signature}
  };
  struct Reply {
    bool joined = false;
    bool late = false;
  };
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Join::Request, round, announcement)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Join::Reply, joined, late)

// Step 2: the round's participant set once fixed; the client enclave checks it and keeps the keys (the host sees
// only `fixed`). Step 3 is a Submit with masked true.
struct Peers {
  static constexpr const char* kName = "peers";
  using Request = RoundRequest;
  struct Reply {
    bool fixed = false;
    nlohmann::json participants = nlohmann::json::array();   // [announcement...]
  };
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Peers::Reply, fixed, participants)

}  // namespace sg::federated::ops
