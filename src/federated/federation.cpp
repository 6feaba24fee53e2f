#include "federated/federation.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <stdexcept>
#include <thread>

#include "federated/local_steps.h"
#include "federated/protocol.h"
#include "split/wire.h"

namespace sg::federated {
namespace {

using nlohmann::json;
constexpr const char* kClientEnclave = "the client enclave";

json call_client_enclave(const RemoteAdapter& adapter, const json& control, std::vector<crypto::Tensor> tensors = {},
                         crypto::Envelope* reply = nullptr) {
  return split::call_enclave(adapter.transport(), kClientEnclave, control, std::move(tensors), reply);
}

// Polls `request` until `done` accepts a reply; throws when `what` takes longer than the round wait.
template <class Done>
json poll_server(const RemoteAdapter& adapter, const ServerLink& link, const json& request, Done done,
                 const FederationOptions& o, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + o.round_wait;
  for (;;) {
    auto reply = call_server(adapter, link, request);
    if (done(reply)) return reply;
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error(what + " did not happen within " + std::to_string(o.round_wait.count()) + " ms");
    std::this_thread::sleep_for(o.poll_every);
  }
}

// Waits until `round` has closed on the server (its global adapter, when it has one, is then installed in the
// client enclave) and returns the clients averaged (0: it closed without an aggregate).
int wait_for_round(const RemoteAdapter& adapter, const ServerLink& link, int round, const FederationOptions& o) {
  const auto reply = poll_server(
      adapter, link, {{"op", op::kFetch}, {"round", round}}, [](const json& r) { return r.at("closed").get<bool>(); },
      o, "the close of round " + std::to_string(round));
  return reply.at("contributors").get<int>();
}

// Submits this client's update for `round` and waits for the round to close: plainly, or (secure aggregation)
// by joining, waiting for the participant set and submitting the masked update once. Returns the clients
// averaged (0: the round closed without this client, which came too late, or — secure aggregation, a
// participant dropped out — without an aggregate; it goes on from the adapter it holds).
int submit_and_wait(const RemoteAdapter& adapter, const ServerLink& link, int round, int64_t samples, bool secure,
                    const FederationOptions& o) {
  if (!secure) {
    const auto reply = call_server(adapter, link, {{"op", op::kSubmit}, {"round", round}, {"samples", samples}});
    const auto closed = wait_for_round(adapter, link, round, o);
    return reply.at("accepted").get<bool>() ? closed : 0;   // late: the round closed without this client
  }
  if (!call_server(adapter, link, {{"op", op::kJoin}, {"round", round}}).at("joined").get<bool>()) {
    wait_for_round(adapter, link, round, o);   // too late for this round's set
    return 0;
  }
  poll_server(adapter, link, {{"op", op::kPeers}, {"round", round}}, [](const json& r) { return r.at("fixed").get<bool>(); },
              o, "round " + std::to_string(round) + "'s participant set");
  call_server(adapter, link, {{"op", op::kSubmit}, {"round", round}, {"samples", samples}, {"masked", true}});
  const int contributors = wait_for_round(adapter, link, round, o);
  if (contributors == 0) spdlog::warn("federated client: round {} closed without an aggregate (a participant dropped out)", round);
  return contributors;
}

}  // namespace

nlohmann::json call_server(const RemoteAdapter& adapter, const ServerLink& link, const json& request) {
  crypto::Envelope sealed;
  call_client_enclave(adapter, {{"op", op::kToServer}, {"request", request}}, {}, &sealed);
  std::vector<crypto::Bytes> frames;
  for (auto& t : sealed.tensors) frames.push_back(std::move(t.data));
  std::vector<crypto::Tensor> reply_frames;
  for (auto& f : link.exchange(frames)) {
    const auto size = int64_t(f.size());
    reply_frames.push_back({{"frame." + std::to_string(reply_frames.size()), "U8", {size}}, std::move(f)});
  }
  auto reply = call_client_enclave(adapter, {{"op", op::kFromServer}}, std::move(reply_frames));
  if (reply.contains("server_error"))
    throw std::runtime_error("the server enclave refused '" + request.value("op", "") + "': " +
                             reply["server_error"].get<std::string>());
  return reply;
}

void connect_to_server(RemoteAdapter& adapter, const ServerLink& link) {
  const auto hello = call_client_enclave(adapter, {{"op", op::kServerHello}});
  const auto nonce = crypto::from_hex(hello.at("nonce").get<std::string>());
  if (!nonce) throw std::runtime_error("the client enclave sent a malformed nonce");
  const auto evidence = link.get_evidence(*nonce);
  const auto connected = call_client_enclave(adapter, {{"op", op::kServerConnect},
                                                    {"evidence", crypto::to_hex(evidence.evidence)},
                                                    {"enclave_key", crypto::to_hex(evidence.enclave_key)}});
  const auto key_bytes = crypto::from_hex(connected.at("client_key").get<std::string>());
  const auto attestation = connected.at("attestation").get<std::string>();
  crypto::KxPublicKey key{};
  if (!key_bytes || key_bytes->size() != key.size()) throw std::runtime_error("the client enclave sent a malformed key");
  std::copy(key_bytes->begin(), key_bytes->end(), key.begin());
  link.open_session(key, crypto::ByteView(attestation));
}

ServerStatus server_status(const RemoteAdapter& adapter, const ServerLink& link) {
  const auto status = call_server(adapter, link, {{"op", op::kStatus}});
  return {status.at("open_round").get<int>(), status.at("rounds").get<int>(), status.at("finished").get<bool>(),
          status.value("secure_aggregation", false)};
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
    call_server(adapter, link, {{"op", op::kFetch}, {"round", out.first_round - 1}});
    spdlog::info("federated client: joined at round {} of {}", out.first_round, out.rounds);
  }
  const int last = federation.rounds_to_run < 0 ? out.rounds : std::min(out.rounds, out.first_round + federation.rounds_to_run);
  for (int round = out.first_round; round < last; ++round) {
    const auto drawn = poll_server(adapter, link, {{"op", op::kSelected}, {"round", round}},
                                   [](const json& r) { return r.at("decided").get<bool>(); }, federation,
                                   "round " + std::to_string(round) + "'s client draw");
    if (!drawn.at("selected").get<bool>()) {   // not drawn: skip this round's steps, go on from its global adapter
      out.contributors.push_back(wait_for_round(adapter, link, round, federation));
      spdlog::info("federated client: not drawn for round {} of {}", round + 1, out.rounds);
      if (federation.after_round) federation.after_round(round);
      continue;
    }
    const StepWindow window{round * per_round, std::min(total_steps, (round + 1) * per_round)};
    auto local = train_local_steps(model, adapter, batches, options, window);
    out.local.losses.insert(out.local.losses.end(), local.losses.begin(), local.losses.end());
    out.local.steps += local.steps;
    out.local.tokens += local.tokens;
    out.local.examples += local.examples;
    out.local.seconds += local.seconds;
    out.contributors.push_back(submit_and_wait(adapter, link, round, std::max<int64_t>(1, local.examples),
                                               status.secure_aggregation, federation));
    spdlog::info("federated client: round {} of {} closed ({} clients averaged)", round + 1, out.rounds,
                 out.contributors.back());
    if (federation.after_round) federation.after_round(round);
  }
  return out;
}

}  // namespace sg::federated
