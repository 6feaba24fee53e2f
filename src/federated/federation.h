// A federated client host's part in the federation (docs/DESIGN.md §7 steps 1 and 3). The client enclave is the end
// point: it verifies the server enclave's evidence against the server policy in its own (measured) job, holds
// the session keys, seals its adapter for the server enclave and installs the global adapter that comes back.
// This host only carries opaque frames between its enclave and the server's host.
//
// Rounds split one local training run: its planned optimiser steps (epochs or max_steps, as `finetune`) are
// divided evenly over the server's rounds. Each round: local steps (local_steps.h) -> submit the adapter and
// the round's sample count -> wait for the round to close (quorum or timeout, on the server) -> install the
// global adapter -> next round. The AdamW moments stay in the client enclave across rounds. A (re)started
// client joins at the server's open round, installing the last global adapter first; with one client and one
// round this is exactly local LoRA training.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <vector>

#include "crypto/bytes.h"
#include "federated/remote_adapter.h"
#include "crypto/key_exchange.h"
#include "tee/messages.h"
#include "train/local_trainer.h"

namespace sg::federated {

// How the client host reaches the server's host (net::ServerConnection in the CLI; direct calls in tests).
struct ServerLink {
  std::function<tee::EvidenceReply(crypto::ByteView nonce)> get_evidence;
  // Opens the session with the client enclave's key and its attestation (the server enclave admits only
  // client enclaves its client policy allows: mutual attestation).
  std::function<void(const crypto::KxPublicKey& client_key, crypto::ByteView attestation)> open_session;
  // One request envelope's sealed frames to the server enclave, its reply's frames back.
  std::function<std::vector<crypto::Bytes>(const std::vector<crypto::Bytes>& frames)> exchange;
};

// A ServerLink over anything with net::ServerConnection's calls (door().get_evidence, open_session, exchange),
// without this folder depending on net/.
template <class Connection>
ServerLink link_over(Connection& connection) {
  ServerLink link;
  link.get_evidence = [&connection](crypto::ByteView nonce) { return connection.door().get_evidence(nonce).value(); };
  link.open_session = [&connection](const crypto::KxPublicKey& key, crypto::ByteView attestation) {
    connection.open_session(key, attestation);
  };
  link.exchange = [&connection](const std::vector<crypto::Bytes>& frames) { return connection.exchange(frames); };
  return link;
}

struct FederationOptions {
  std::chrono::milliseconds poll_every{200};     // while waiting for a round to close
  std::chrono::milliseconds round_wait{600000};  // give up (error) when a round stays open this long
  int rounds_to_run = -1;                        // take part in this many rounds from the joining one (-1: all)
  // Whenever the client enclave's trusted state changed — after each round (it holds the round's global
  // adapter and its optimiser) and right after a masked submission (it marked the round masked) — the CLI
  // persists the enclave's sealed state here, so a restarted client continues its optimiser and never masks a
  // second update for a round.
  std::function<void(int round)> persist_state;
};

struct ServerStatus {
  int open_round = 0;   // rounds closed so far
  int rounds = 0;
  bool finished = false;
  bool secure_aggregation = false;
};

struct FederationResult {
  train::TrainResult local;   // this client's local steps, all rounds
  int first_round = 0;        // the round this client joined at
  int rounds = 0;             // the server's rounds
  std::vector<int> contributors;   // clients averaged into each round this client waited for
};

// Mutual attestation, then the session: the client enclave verifies the server enclave's evidence (over its
// own nonce) against the server policy in its job, and returns its key with its own evidence and config,
// which the server enclave checks against its client policy before opening. Throws std::runtime_error naming
// the refusal (evidence, policy, unreachable server).
void connect_to_server(RemoteAdapter& adapter, const ServerLink& link);

// One request to the server enclave, sealed and opened by the client enclave (which adds what only it may say:
// its adapter, its secure-aggregation messages, its own sample count); returns the reply's control.
// `before_sending` runs once the client enclave has sealed the request and before its frames leave. Throws
// std::runtime_error when the server enclave refuses.
nlohmann::json call_server(const RemoteAdapter& adapter, const ServerLink& link, const nlohmann::json& request,
                           const std::function<void()>& before_sending = {});

// The server enclave's round state, asked through the client enclave's session.
ServerStatus server_status(const RemoteAdapter& adapter, const ServerLink& link);

FederationResult run_federation(const model::Transformer& model, RemoteAdapter& adapter, const ServerLink& link,
                                const data::Dataset& dataset, const model::Tokenizer& tokenizer,
                                const train::TrainOptions& options, const data::BatchOptions& batching,
                                const FederationOptions& federation = {});

}  // namespace sg::federated
