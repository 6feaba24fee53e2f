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

// Secure aggregation (masked_rounds.h). The host names the op and the round; the client enclave fills in what
// the op carries and takes what the reply carries (the host sees only accepted/late or ready/ended).

// An action of a phase: accepted, or late when its phase or round ended without this client.
struct StepReply {
  bool accepted = false;
  bool late = false;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(StepReply, accepted, late)

// What a phase hands the clients once it has ended: ready with `data`, or ended when the round is over.
struct PhaseReply {
  bool ready = false;
  bool ended = false;
  nlohmann::json data;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PhaseReply, ready, ended, data)

// A poll of one phase's outcome in a round.
template <const char* Name>
struct PhasePoll {
  static constexpr const char* kName = Name;
  using Request = RoundRequest;
  using Reply = PhaseReply;
};

// join: fresh mask and share keys, signed by the client's identity (secagg_messages.h: MaskKeyAnnouncement).
struct Join {
  static constexpr const char* kName = "join";
  struct Request {
    int round = 0;
    nlohmann::json announcement;
  };
  using Reply = StepReply;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Join::Request, round, announcement)

// The participant set U1 (data: [announcement...], sorted by identity).
inline constexpr char kPeers[] = "peers";
using Peers = PhasePoll<kPeers>;

// share: the client's encrypted shares for every participant and its seed commitment (ShareMessage).
struct Share {
  static constexpr const char* kName = "share";
  struct Request {
    int round = 0;
    nlohmann::json message;
  };
  using Reply = StepReply;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Share::Request, round, message)

// The shares addressed to the caller by every participant that shared (data: [InboxEntry...]). Then a Submit
// with masked true.
inline constexpr char kInbox[] = "inbox";
using Inbox = PhasePoll<kInbox>;

// The survivor set U3 (data: [identity...], sorted).
inline constexpr char kSurvivors[] = "survivors";
using Survivors = PhasePoll<kSurvivors>;

// confirm: the client's signature over U3 (hex).
struct Confirm {
  static constexpr const char* kName = "confirm";
  struct Request {
    int round = 0;
    std::string signature;
  };
  using Reply = StepReply;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Confirm::Request, round, signature)

// The survivors' signatures over U3 (data: [Confirmation...]).
inline constexpr char kConfirmations[] = "confirmations";
using Confirmations = PhasePoll<kConfirmations>;

// reveal: one share per participant that shared (data: [RevealedShare...]).
struct Reveal {
  static constexpr const char* kName = "reveal";
  struct Request {
    int round = 0;
    nlohmann::json shares = nlohmann::json::array();
  };
  using Reply = StepReply;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Reveal::Request, round, shares)

}  // namespace sg::federated::ops
