// The client's half of split fine-tuning (docs/DESIGN.md §5, §6): the embedding and layers [0, k) of the model — only
// those tensors are loaded — and a transport to the server enclave. Each micro-batch's front runs without
// gradients here; its activations, mask and labels go (sealed, by the transport) to the enclave, which runs the
// rest, the loss, backward and the optimiser. With a u-shaped plan the client also holds the final norm and
// head: the enclave returns its output, the client computes the loss (labels never leave it) and returns the
// gradient at that output. The batch order is the local trainer's (train::shuffled_epochs),
// and each batch is sent with its position, so the enclave reproduces local training's random draws.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <string>

#include "crypto/envelope.h"
#include "data/dataset.h"
#include "slicing/plan.h"
#include "rpc/call.h"
#include "train/local_trainer.h"

namespace sg::model {
class Tokenizer;
}

namespace sg::split {


struct ServerInfo {
  int cut_layer = 0;
  int hidden_size = 0;
  std::string method;
  int64_t trainable_parameters = 0;
  int steps_done = 0;
  int accumulation = 1;   // micro-batches per optimiser step, from the server's job
  uint64_t state_generation = 0;   // how often the enclave's state was sealed (tee::EnclaveRuntime)
};

// Where a split run's time goes, from the client's side.
struct SplitTimings {
  double client_compute = 0;   // the front layers
  double round_trip = 0;       // sealing, transport, the enclave and opening the reply
  double enclave_compute = 0;  // the enclave's own report of its compute inside round_trip
};

class SplitClient {
 public:
  // Loads the plan's client slice of `model_dir`; throws when the plan does not fit the model.
  SplitClient(const std::string& model_dir, const slicing::SlicePlan& plan, rpc::Transport transport);
  ~SplitClient();

  // Asks the enclave what it serves; throws when its cut layer or hidden size differ from ours.
  ServerInfo hello();
  // Trains on `dataset` with the local trainer's batching and step accounting; returns per-step losses.
  // The optimiser and its hyper-parameters are the server's (part of its measured job); options.optimizer is
  // not used.
  // With `resume`, the micro-batches of the steps the enclave reports done are skipped: a run interrupted by a
  // server restart continues from the enclave's last sealed step (meant for one client per server).
  train::TrainResult train(const data::Dataset& dataset, const model::Tokenizer& tokenizer,
                           const train::TrainOptions& options, const data::BatchOptions& batching,
                           bool resume = false);
  // Logits (B,T,V) of the whole split model for a batch: the front here, the rest in the enclave.
  at::Tensor logits(const at::Tensor& input_ids, const at::Tensor& attention_mask);
  // Split generation with a KV cache on both sides (this client's layers here, the enclave's there): the
  // next-token logits for model::generate. Position 0 starts a new sequence on both sides.
  at::Tensor next_token_logits(const at::Tensor& input_ids, int64_t past);

  const SplitTimings& timings() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::split
