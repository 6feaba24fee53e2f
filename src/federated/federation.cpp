#include "federated/federation.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <thread>

#include "federated/local_steps.h"
#include "federated/client_protocol.h"
#include "federated/server_protocol.h"
#include "federated/server_session.h"
#include "rpc/call.h"

namespace sg::federated {
namespace {

using nlohmann::json;
constexpr const char* kClientEnclave = "the client enclave";

template <class Op>
typename Op::Reply call_client_enclave(const RemoteAdapter& adapter, const typename Op::Request& request,
                                       std::vector<crypto::Tensor> tensors = {}, crypto::Envelope* reply = nullptr) {
  return rpc::call<Op>(adapter.transport(), kClientEnclave, request, std::move(tensors), reply);
}

// One request of server_protocol.h through the client enclave.
template <class Op>
typename Op::Reply ask_server(const RemoteAdapter& adapter, const ServerLink& link, const typename Op::Request& request,
                              const std::function<void()>& before_sending = {}) {
  const auto reply = call_server(adapter, link, rpc::control_of<Op>(request), before_sending);
  try {
    return rpc::parse_as<typename Op::Reply>(reply, std::string("the server enclave's '") + Op::kName + "' reply");
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(e.what());
  }
}

// Asks `request` until `done` accepts a reply; throws when `what` takes longer than the round wait.
template <class Op, class Done>
typename Op::Reply poll_server(const RemoteAdapter& adapter, const ServerLink& link, const typename Op::Request& request,
                               Done done, const FederationOptions& o, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + o.round_wait;
  for (;;) {
    auto reply = ask_server<Op>(adapter, link, request);
    if (done(reply)) return reply;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(what + " did not happen within " + std::to_string(o.round_wait.count()) + " ms");
    std::this_thread::sleep_for(o.poll_every);
  }
}

// Waits until `round` has closed on the server (its global adapter, when it has one, is then installed in the
// client enclave) and returns the clients averaged (0: it closed without an aggregate).
int wait_for_round(const RemoteAdapter& adapter, const ServerLink& link, int round, const FederationOptions& o) {
  const auto reply = poll_server<ops::Fetch>(adapter, link, {round}, [](const auto& r) { return r.closed; }, o,
                                             "the close of round " + std::to_string(round));
  return reply.contributors;
}

// Polls phase `Poll` of a secure-aggregation round until it is ready; false when the round ended first.
template <class Poll>
bool phase_ready(const RemoteAdapter& adapter, const ServerLink& link, int round, const FederationOptions& o) {
  const auto reply = poll_server<Poll>(adapter, link, {round}, [](const auto& r) { return r.ready || r.ended; }, o,
                                       "round " + std::to_string(round) + "'s '" + Poll::kName + "' phase");
  return reply.ready;
}

// A secure-aggregation round (masked_rounds.h) from the client's side; the client enclave fills in every request
// and takes every reply's data. False when a phase or the round ended without this client.
bool secure_round(const RemoteAdapter& adapter, const ServerLink& link, int round, const FederationOptions& o) {
  // The client enclave marks the round masked as it seals the update; that marker is persisted before the
  // update leaves, so neither a refusal nor a lost reply can get this client to mask the round again.
  const std::function<void()> persist_marker = [&] {
    if (o.persist_state) o.persist_state(round);
  };
  return ask_server<ops::Join>(adapter, link, {.round = round}).accepted &&
         phase_ready<ops::Peers>(adapter, link, round, o) &&
         ask_server<ops::Share>(adapter, link, {.round = round}).accepted &&
         phase_ready<ops::Inbox>(adapter, link, round, o) &&
         ask_server<ops::Submit>(adapter, link, {.round = round, .masked = true}, persist_marker).accepted &&
         phase_ready<ops::Survivors>(adapter, link, round, o) &&
         ask_server<ops::Confirm>(adapter, link, {.round = round}).accepted &&
         phase_ready<ops::Confirmations>(adapter, link, round, o) &&
         ask_server<ops::Reveal>(adapter, link, {.round = round}).accepted;
}

// Submits this client's update for `round` and waits for the round to close: plainly, or through the phases
// of secure aggregation. Returns the clients averaged (0: the round closed without this client, which came too
// late, or — secure aggregation — with fewer participants left than the threshold, without an aggregate; it
// goes on from the adapter it holds).
int submit_and_wait(const RemoteAdapter& adapter, const ServerLink& link, int round, bool secure,
                    const FederationOptions& o) {
  if (!secure) {
    const auto reply = ask_server<ops::Submit>(adapter, link, {.round = round});
    const auto closed = wait_for_round(adapter, link, round, o);
    return reply.accepted ? closed : 0;   // late: the round closed without this client
  }
  const bool took_part = secure_round(adapter, link, round, o);
  const int contributors = wait_for_round(adapter, link, round, o);
  if (!took_part) spdlog::warn("federated client: round {} went on without this client", round);
  if (contributors == 0) spdlog::warn("federated client: round {} closed without an aggregate", round);
  return contributors;
}

}  // namespace

nlohmann::json call_server(const RemoteAdapter& adapter, const ServerLink& link, const json& request,
                           const std::function<void()>& before_sending) {
  crypto::Envelope sealed;
  call_client_enclave<ops::ToServer>(adapter, {request}, {}, &sealed);
  if (before_sending) before_sending();
  std::vector<crypto::Bytes> frames;
  for (auto& t : sealed.tensors) frames.push_back(std::move(t.data));
  auto reply = rpc::call(adapter.transport(), kClientEnclave, rpc::control_of<ops::FromServer>({}),
                         frame_tensors(link.exchange(frames)));
  if (reply.contains("server_error"))
    throw std::runtime_error("the server enclave refused '" + request.value("op", "") + "': " +
                             reply["server_error"].get<std::string>());
  return reply;
}

void connect_to_server(RemoteAdapter& adapter, const ServerLink& link) {
  const auto hello = call_client_enclave<ops::ServerHello>(adapter, {});
  const auto nonce = crypto::from_hex(hello.nonce);
  if (!nonce) throw std::runtime_error("the client enclave sent a malformed nonce");
  const auto evidence = link.get_evidence(*nonce);
  const auto connected = call_client_enclave<ops::ServerConnect>(
      adapter, {crypto::to_hex(evidence.evidence), crypto::to_hex(evidence.enclave_key)});
  const auto key = crypto::from_hex_array<32>(connected.client_key);
  if (!key) throw std::runtime_error("the client enclave sent a malformed key");
  link.open_session(*key, crypto::ByteView(connected.attestation));
}

ServerStatus server_status(const RemoteAdapter& adapter, const ServerLink& link) {
  const auto status = ask_server<ops::Status>(adapter, link, {});
  return {status.open_round, status.rounds, status.finished, status.secure_aggregation};
}

FederationResult run_federation(const model::Transformer& model, RemoteAdapter& adapter, const ServerLink& link,
                                const data::Dataset& dataset, const model::Tokenizer& tokenizer,
                                const train::TrainOptions& options, const data::BatchOptions& batching,
                                const FederationOptions& federation) {
  const auto status = server_status(adapter, link);
  if (status.finished) throw std::runtime_error("the federation has already finished its rounds");
  FederationResult out;
  out.rounds = status.rounds;
  out.first_round = status.open_round;

  // Every round walks the run's batch order from its start: tokenise and shuffle each epoch once.
  const auto fresh = train::shuffled_epochs(dataset, tokenizer, batching);
  std::map<int, std::vector<data::Batch>> epochs;
  const train::EpochBatches batches = [&](int epoch) {
    auto it = epochs.find(epoch);
    if (it == epochs.end()) it = epochs.emplace(epoch, fresh(epoch)).first;
    return it->second;
  };
  auto step_options = options;
  step_options.optimizer.accumulation = adapter.accumulation();
  const int total_steps = train::planned_steps(batches(0).size(), step_options);
  const int per_round = (total_steps + out.rounds - 1) / out.rounds;
  if (out.first_round > 0) {
    // Join with the current global adapter (the last closed round's).
    ask_server<ops::Fetch>(adapter, link, {out.first_round - 1});
    spdlog::info("federated client: joined at round {} of {}", out.first_round, out.rounds);
  }
  const int last = federation.rounds_to_run < 0 ? out.rounds : std::min(out.rounds, out.first_round + federation.rounds_to_run);
  for (int round = out.first_round; round < last; ++round) {
    const auto drawn = poll_server<ops::Selected>(adapter, link, {round}, [](const auto& r) { return r.decided; },
                                                  federation, "round " + std::to_string(round) + "'s client draw");
    if (!drawn.selected) {   // not drawn: skip this round's steps, go on from its global adapter
      out.contributors.push_back(wait_for_round(adapter, link, round, federation));
      spdlog::info("federated client: not drawn for round {} of {}", round + 1, out.rounds);
      if (federation.persist_state) federation.persist_state(round);
      continue;
    }
    const StepWindow window{round * per_round, std::min(total_steps, (round + 1) * per_round)};
    auto local = train_local_steps(model, adapter, batches, options, window);
    out.local.losses.insert(out.local.losses.end(), local.losses.begin(), local.losses.end());
    out.local.steps += local.steps;
    out.local.tokens += local.tokens;
    out.local.examples += local.examples;
    out.local.seconds += local.seconds;
    out.contributors.push_back(submit_and_wait(adapter, link, round, status.secure_aggregation, federation));
    spdlog::info("federated client: round {} of {} closed ({} clients averaged)", round + 1, out.rounds,
                 out.contributors.back());
    if (federation.persist_state) federation.persist_state(round);
  }
  return out;
}

}  // namespace sg::federated
