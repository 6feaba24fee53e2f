// libFuzzer entry: what a client enclave parses from the server enclave during a secure-aggregation round (the
// phase replies of federated/server_protocol.h, as JSON) and what the server enclave parses from clients —
// every secagg message, the participant set check, and a participant's receive/confirm/reveal on inputs it did
// not make. Refusal is the expected outcome; a crash, a sanitizer report or an exception other than
// std::invalid_argument / nlohmann's is a bug, and shares the fuzzer cannot have made must never open.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include <nlohmann/json.hpp>

#include "federated/secagg_messages.h"
#include "federated/secagg_participant.h"
#include "federated/secure_aggregation.h"

namespace {

using namespace sg;
using nlohmann::json;

// Parses `j` as T, refusals swallowed (they are the expected outcome).
template <class T>
void parse(const json& j) {
  try {
    (void)j.get<T>();
  } catch (const std::invalid_argument&) {
  } catch (const json::exception&) {
  }
}

template <class F>
void refused_or_fine(F f) {
  try {
    f();
  } catch (const std::invalid_argument&) {
  } catch (const json::exception&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const auto j = json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  parse<federated::MaskKeyAnnouncement>(j);
  parse<federated::ShareMessage>(j);
  parse<std::vector<federated::MaskKeyAnnouncement>>(j);
  parse<std::vector<federated::InboxEntry>>(j);
  parse<std::vector<federated::Confirmation>>(j);
  parse<std::vector<federated::RevealedShare>>(j);
  refused_or_fine([&] { (void)federated::identities_from_json(j, "fuzz"); });

  // A participant of a round whose other members are honest; the fuzzer plays the aggregator's replies.
  static const crypto::SigningKeyPair me = crypto::SigningKeyPair::generate(), a = crypto::SigningKeyPair::generate(),
                                      b = crypto::SigningKeyPair::generate();
  federated::SecAggParticipant mine(me, 0, 2), peer_a(a, 0, 2), peer_b(b, 0, 2);
  const std::vector<federated::MaskKeyAnnouncement> set{mine.announcement(), peer_a.announcement(), peer_b.announcement()};
  refused_or_fine([&] { (void)mine.share(j.get<std::vector<federated::MaskKeyAnnouncement>>()); });
  refused_or_fine([&] { (void)mine.share(set); });
  bool received = false;
  refused_or_fine([&] {
    mine.receive(j.get<std::vector<federated::InboxEntry>>());
    received = true;
  });
  if (received) __builtin_trap();   // the honest members never shared: nothing the fuzzer sends can open
  return 0;
}
