// The adapter a federated client enclave trains for its host's frozen model: LoRA pairs (created exactly as
// peft::Lora::attach would, from the module shapes the host reports) or P-tuning v2's prefix, with AdamW. It
// computes the adapters' contributions and gradients (client_protocol.h: forward, backward, prefix_forward,
// prefix_backward) and keeps no activations between calls: backward brings its inputs back and recomputes.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "crypto/envelope.h"
#include "federated/client_protocol.h"
#include "federated/job.h"
#include "peft/lora.h"
#include "peft/prefix.h"
#include "train/optimizer.h"

namespace sg::federated {

class ClientAdapter {
 public:
  explicit ClientAdapter(const ClientJob& job) : job_(job) {}

  ops::Init::Reply init(const ops::Init::Request& request);
  bool ready() const { return lora_ || prefix_; }
  // Creates the optimiser for a run of `total_steps` (once); `restore` then gets the chance to load a snapshot.
  // Returns the run's length.
  template <class Restore>
  int begin(int total_steps, Restore restore) {
    if (!optimizer_) {
      auto options = job_.optimizer;
      options.total_steps = total_steps;
      optimizer_.emplace(parameters(), options);
      total_steps_ = total_steps;
      try {
        restore();
      } catch (...) {
        optimizer_.reset();   // a later begin checks the sealed state again
        throw;
      }
    }
    return total_steps_;
  }
  void micro(const ops::Micro::Request& at);
  ops::Step::Reply step(double loss);

  crypto::Envelope forward(const ops::Forward::Request& request, const crypto::Envelope& tensors);
  crypto::Envelope backward(const ops::Backward::Request& request, const crypto::Envelope& tensors);
  crypto::Envelope prefix_forward(int layer, const crypto::Envelope& tensors) const;
  crypto::Envelope prefix_backward(int layer, const crypto::Envelope& tensors);

  // FedAvg's weight: the examples trained on since the last global adapter, counted by the first backward of
  // each micro-batch (its rows), so a host can raise it only by training on more. Throws when none.
  int64_t round_examples() const;
  void round_closed() { examples_ = 0; }

  // The trainable tensors under the names the server enclave averages them by.
  std::vector<std::pair<std::string, at::Tensor>> held_tensors() const;
  // Replaces the adapter with the global one (every tensor, of the held shapes).
  void install(const crypto::Envelope& global);

  // The optimiser (AdamW moments, step), the run's length and the adapter's shapes as archive bytes (empty before
  // begin); restore throws naming what does not fit this run.
  std::string snapshot() const;
  void restore(const std::string& bytes);

 private:
  // A training forward awaiting its backward: which modules it ran on an input of which shape, and the
  // generator state its dropout drew from.
  struct Call {
    std::vector<std::string> modules;
    std::vector<int64_t> input_shape;
    at::Tensor dropout_state;
  };

  std::vector<at::Tensor> parameters() const;
  const peft::LoraAdapter& module(const std::string& name) const;
  std::vector<std::string> checked_modules(const std::vector<std::string>& modules) const;
  void count_examples(int64_t rows);
  at::Tensor dropout_state() const;

  const ClientJob& job_;
  std::optional<peft::Lora> lora_;       // the job's method: LoRA ...
  std::optional<peft::Prefix> prefix_;   // ... or P-tuning v2's prefix
  std::optional<train::Optimizer> optimizer_;
  int total_steps_ = 0;
  std::map<int64_t, Call> pending_;   // forward calls awaiting their backward, this micro-step
  int64_t examples_ = 0;              // trained since the last global adapter
  bool micro_counted_ = true;         // the current micro-batch's rows are in examples_
};

}  // namespace sg::federated
