// A federated client's local training steps (docs/DESIGN.md §7 step 2): the frozen model runs here, its adapter (LoRA
// or a prefix) and optimiser in the client enclave (remote_adapter.h). The batch order and step accounting are the
// local trainer's, and the enclave seeds each micro-batch's draws from its position, so with the same seed and data
// the losses equal `sliceguard finetune`'s with the same method.
#pragma once

#include "federated/remote_adapter.h"
#include "train/local_trainer.h"

namespace sg::federated {

// Which of the run's optimiser steps to take now: those after `skip_steps` up to `stop_after` (-1: the end).
struct StepWindow {
  int skip_steps = 0;
  int stop_after = -1;
};

// `batches`: the run's epochs, as train::shuffled_epochs makes them.
train::TrainResult train_local_steps(const model::Transformer& model, RemoteAdapter& adapter, const train::EpochBatches& batches,
                                     const train::TrainOptions& options, StepWindow window = {});

}  // namespace sg::federated
