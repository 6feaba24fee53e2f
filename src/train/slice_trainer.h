// The server's half of split fine-tuning (docs/DESIGN.md §5, §6): layers [k, L) + final norm + head of a model, the
// method's adapters on those layers, and their optimiser. It runs wherever the server slice lives — inside the
// enclave under `sliceguard server` — and knows nothing of crypto or networks: cut-layer activations in, loss
// and logits out. Each micro-batch runs through run_micro_step, as the local trainer's do, so the same seed,
// data and hyper-parameters give the local run's losses.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "peft/methods.h"
#include "train/micro_step.h"
#include "train/optimizer.h"

namespace sg::model {
struct KvCache;
class Transformer;
}

namespace sg::train {

struct SliceTrainerOptions {
  std::string model_dir;
  int cut_layer = 1;              // the slice is layers [cut_layer, L) + head
  bool head = true;               // false: u-shaped, the final norm and head stay on the client
  peft::MethodOptions method;     // adapters go on the slice's layers only
  OptimizerOptions optimizer;     // its total_steps is replaced by the run's length
  int total_steps = 0;            // the schedule's length; 0 = set by the first begin()
  uint64_t seed = 0;              // adapter init and dropout draws, as `sliceguard finetune --seed`
  // Called with the slice as loaded, before any adapter touches it (the enclave checks its digest here); what
  // it throws fails the construction.
  std::function<void(const model::Transformer&)> on_loaded;
};

class SliceTrainer {
 public:
  explicit SliceTrainer(const SliceTrainerOptions& options);   // loads only the server slice
  ~SliceTrainer();

  // Creates the optimiser for a run of `total_steps` optimiser steps, unless the options fixed the length or a
  // run already began (clients that join later share the state).
  void begin(int total_steps);
  // One micro-batch: hidden (B,T,D) at the cut, attention mask (B,T), labels (B,T) with -100 = no loss.
  MicroStepResult train(const at::Tensor& hidden, const at::Tensor& attention_mask, const at::Tensor& labels,
                        BatchPosition at);
  // U-shaped training, in two halves around the client's head and loss: the slice's output (B,T,D) for a
  // micro-batch, its graph kept; then the gradient of the client's loss (already divided by the accumulation)
  // with respect to that output, which finishes the micro-step.
  at::Tensor forward_to_client(const at::Tensor& hidden, const at::Tensor& attention_mask, BatchPosition at);
  MicroStepResult backward_from_client(const at::Tensor& output, const at::Tensor& grad, double loss);

  // Logits (B,T,V) of the slice with its current adapters (no gradients); u-shaped: its output (B,T,D).
  at::Tensor logits(const at::Tensor& hidden, const at::Tensor& attention_mask) const;
  // Generation: the next-token logits (V) (u-shaped: the last output row (D)) for hidden (1,T,D) of new tokens at positions past .., extending
  // `cache` (the slice's layers only). Throws when `past` is not the cache's length.
  at::Tensor next_token_logits(const at::Tensor& hidden, model::KvCache& cache, int64_t past) const;

  // Everything trained so far — adapter tensors, optimiser moments and step, schedule length — as bytes, for
  // the enclave to seal; restore() continues exactly from a snapshot of a trainer with the same options.
  std::string snapshot() const;
  void restore(const std::string& snapshot);

  // The trainable tensors (adapters), e.g. for averaging copies of a trainer.
  std::vector<at::Tensor> parameters() const;

  int steps_done() const;
  int total_steps() const;
  int64_t trainable_parameters() const;
  int hidden_size() const;
  int cut_layer() const;
  int accumulation() const;
  const std::string& method() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::train
