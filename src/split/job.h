// The split-training job an enclave serves: the "job" object of its config file (tee/enclave_config.h), so it
// is part of the enclave's measurement — a client's policy pins the model path, cut layer, method and
// hyper-parameters along with the binary. Written by `sliceguard server`, read inside the enclave:
//
//   { "kind": "split", "plan": "split" | "u-shaped", "model": DIR, "cut_layer": k, "method": "spf+lora", "lora_r": 8, "lora_alpha": 16,
//     "lora_dropout": 0, "spf_density": 0.1, "spf_score": "l1", "lr": 3e-3, "weight_decay": 0, "warmup": 10,
//     "max_grad_norm": 1, "accumulation": 1, "seed": 0, "total_steps": 0, "threads": 1, "seal_every": 10,
//     "mode": "sequential", "average_every": 10, "clients": [HEX, ...], "model_digest": HEX,
//     "max_batch_tokens": 65536 }
//
// mode: "sequential" — every client trains one shared server state (vanilla split learning); "parallel" — each
// client session trains its own copy, and every `average_every` steps of any copy the enclave averages the
// copies' adapter tensors and gives each the average (SplitFed; optimiser moments stay per copy).
//
// clients: the Ed25519 public keys of the enrolled clients; only they can open a session (tee/client_identity.h),
// so the operator, who owns the base weights, cannot query or train the enclave's adapters. Required.
// model_digest: split/model_digest.h over the slice the enclave loads; another file is refused. Required.
// max_batch_tokens: the most tokens (batch x sequence) one request may carry; a larger tensor is refused by its
// first chunk, before the enclave reserves memory for it.
//
// seal_every: every that many optimiser steps the enclave puts a snapshot of its trainer in its trusted state,
// which the host persists sealed (net/relay_server.h); a restarted enclave continues from it.
#pragma once

#include <string>
#include <vector>

#include "crypto/signing.h"

#include "train/slice_trainer.h"

namespace sg::split {

struct SplitJob {
  train::SliceTrainerOptions trainer;
  int threads = 1;      // LibTorch threads inside the enclave
  int seal_every = 10;  // optimiser steps between trainer snapshots (0 = never)
  bool parallel = false;   // mode "parallel" (SplitFed) instead of "sequential"
  int average_every = 10;  // parallel: steps of a copy between averages
  std::vector<crypto::VerifyKey> clients;   // enrolled client identities
  std::string model_digest;                 // hex, split/model_digest.h
  int64_t max_batch_tokens = 65536;

  std::string to_json() const;
  // Throws std::invalid_argument naming `source` and the field.
  static SplitJob parse(const std::string& json_text, const std::string& source);
};

}  // namespace sg::split
