// Local fine-tuning: the baseline the secure modes (split, federated) must equal. One process, the whole
// model; the trainable tensors are whatever the PEFT method exposes (LoRA, prefix, SPF deltas...).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "train/optimizer.h"

namespace sg::model {
class Tokenizer;
class Transformer;
}  // namespace sg::model

namespace sg::train {

struct TrainOptions {
  int epochs = 1;
  int max_steps = -1;          // optimiser steps; -1 = epochs decide
  OptimizerOptions optimizer;
  uint64_t seed = 0;           // data order and dropout: the same seed gives the same run
  std::string checkpoint_dir;  // empty: no checkpoints
  int checkpoint_every = 0;    // optimiser steps between checkpoints (0 = only at the end)
  std::string metrics_path;    // JSONL, one line per optimiser step
  int log_every = 10;
};

struct TrainResult {
  std::vector<double> losses;   // per optimiser step (mean over its micro-batches)
  int steps = 0;
  int64_t tokens = 0;
  int64_t examples = 0;         // rows of the micro-batches trained on (FedAvg weights by it)
  double seconds = 0;
};

// Batches of one epoch (called once per epoch, with the epoch number, so each epoch can reshuffle).
using EpochBatches = std::function<std::vector<data::Batch>(int epoch)>;
// The standard EpochBatches: make_batches over `dataset`, reshuffled each epoch with seed = options.seed + epoch.
// Keeps references to `dataset` and `tokenizer`.
EpochBatches shuffled_epochs(const data::Dataset& dataset, const model::Tokenizer& tokenizer,
                             const data::BatchOptions& options);
// Optimiser steps of a run whose epochs have `batches_per_epoch` micro-batches.
int planned_steps(std::size_t batches_per_epoch, const TrainOptions& options);

// Loss of one micro-batch with gradients flowing into the trainable tensors.
using LossFn = std::function<at::Tensor(const data::Batch&)>;

// The standard LossFn: full forward through `model` with the batch's mask, causal LM loss on its labels.
LossFn causal_lm_objective(const model::Transformer& model);

// Trains `trainable` (tensors with requires_grad) by minimising `loss`. With a checkpoint_dir that already
// holds a checkpoint, resumes from it and continues exactly as if never interrupted.
TrainResult train_local(const std::vector<at::Tensor>& trainable, const LossFn& loss, const EpochBatches& batches,
                        const TrainOptions& options);

}  // namespace sg::train
