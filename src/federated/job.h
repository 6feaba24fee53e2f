// The jobs of federated enclaves (the "job" object of their configs, so part of their measurements).
//
// The job a federated client enclave serves (the "job" object of its config, so it is part of the measurement):
//
//   { "kind": "federated-client", "method": "lora", "lora_r": 8, "lora_alpha": 16, "lora_dropout": 0,
//     "target_modules": ["q_proj", "k_proj", "v_proj", "o_proj"], "lr": 3e-3, "weight_decay": 0, "warmup": 10,
//     "max_grad_norm": 1, "accumulation": 1, "seed": 0, "threads": 1,
//     "num_virtual_tokens": 16, "prefix_projection": false,   method "ptuning": P-tuning v2's prefix instead of LoRA
//     "min_participants": 3,                 secure aggregation: mask only among at least this many (itself included)
//     "server_policy": { tee/policy.h },     the server enclaves this adapter may be sent to (federation only)
//     "peer_policy": { tee/policy.h },       secure aggregation: the client enclaves it shares and masks among
//     "secure_aggregation": false }           true: the adapter leaves only masked (a server without secure
//                                             aggregation gets nothing)
#pragma once

#include <optional>
#include <string>

#include "federated/aggregator.h"
#include "peft/lora.h"
#include "peft/prefix.h"
#include "train/optimizer.h"

namespace sg::federated {

struct ClientJob {
  std::string method = "lora";   // "lora" | "ptuning" (the prefix; the LoRA fields are then unused)
  peft::LoraConfig lora;
  peft::PrefixConfig prefix;
  train::OptimizerOptions optimizer;
  uint64_t seed = 0;   // adapter init and dropout draws, as `sliceguard finetune --seed`
  int threads = 1;
  std::string server_policy;   // policy JSON; empty = local steps only, no federation
  std::string peer_policy;     // secure aggregation: the client enclaves it masks among (policy JSON; empty:
                               // this client takes part in no secure round)
  bool secure_aggregation = false;   // send the adapter masked or not at all (needs peer_policy)
  // Secure aggregation: this enclave masks its update only for a participant set at least this large. A sum of
  // fewer reveals too much (of two, the other participant's update to each), and this is the client's own
  // guard against a server that fixes a set of {this client, its own fakes}.
  int min_participants = 3;

  std::string to_json() const;
  static ClientJob parse(const std::string& json_text, const std::string& source);   // throws naming the field
};

// The job of the server enclave that aggregates:
//
//   { "kind": "federated-server", "rounds": 3, "clients_per_round": 3, "quorum": 2, "round_timeout_ms": 60000,
//     "threads": 1, "secure_aggregation": false, "min_participants": 3, "clients": 3,
//     "client_policy": { tee/policy.h, ... } }
struct ServerJob {
  RoundOptions rounds;
  int threads = 1;
  std::string client_policy;   // policy JSON (required): which client enclaves may open a session
  bool secure_aggregation = false;   // pairwise masks: the enclave learns only each round's sum (masked_rounds.h)
  int clients = 0;   // clients expected (0: clients_per_round); more samples each round (client_sampler.h)
  int min_participants = 3;   // secure aggregation: quorum and clients_per_round must be at least this

  std::string to_json() const;
  static ServerJob parse(const std::string& json_text, const std::string& source);   // throws naming the field
};

}  // namespace sg::federated
