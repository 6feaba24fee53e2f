// The local trainer's batch order and step accounting for runs whose micro-steps happen elsewhere — in a
// server enclave (split) or the client's own enclave (federated): the same planned steps, progress output and
// per-step losses as train_local, with the micro-step itself supplied by the caller.
#pragma once

#include <functional>

#include "train/local_trainer.h"
#include "train/micro_step.h"

namespace sg::train {

// What one remote micro-step reports: its loss (already divided by the accumulation), whether an optimiser
// step followed, the step count after it, and the learning rate it used.
struct RemoteMicroStep {
  double loss = 0;
  bool stepped = false;
  int step = 0;
  double lr = 0;
};

struct DrivenRun {
  int accumulation = 1;   // micro-batches per optimiser step (the step owner's setting)
  int skip_steps = 0;     // optimiser steps already done before this run (resume)
  int stop_after = -1;    // stop once this many optimiser steps are done in all (a federated round); -1: the end
  // Called once with the run's planned optimiser steps, before the first micro-batch.
  std::function<void(int total_steps)> begin;
  std::function<RemoteMicroStep(const data::Batch& batch, BatchPosition at)> micro_step;
};

TrainResult drive_run(const EpochBatches& batches, const TrainOptions& options, const DrivenRun& run);

}  // namespace sg::train
