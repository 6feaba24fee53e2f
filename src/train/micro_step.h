// One micro-batch of training exactly as every trainer runs it: dropout draws seeded by the batch's position,
// loss / accumulation, backward, and an optimiser step every `accumulation` micro-batches. The local trainer
// and the split enclave both call this, which is why a split run reproduces a local one step for step.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstddef>
#include <cstdint>
#include <functional>

#include "train/optimizer.h"

namespace sg::train {

// Where a micro-batch sits in the run; it also seeds the batch's random draws, so a resumed or remote run
// repeats them.
struct BatchPosition {
  int epoch = 0;
  std::size_t index = 0;   // micro-batch within the epoch
};

struct MicroStepResult {
  double loss = 0;        // this micro-batch's loss divided by the accumulation
  bool stepped = false;   // an optimiser step was taken after it
  double lr = 0;          // the learning rate that step used
};

MicroStepResult run_micro_step(Optimizer& optimizer, int accumulation, uint64_t seed, BatchPosition at,
                               const std::function<at::Tensor()>& loss);

// The two halves of run_micro_step, for a micro-batch whose loss and backward happen elsewhere (the u-shaped
// split, where the client holds the head): seed the batch's draws before its forward; after its backward,
// take the optimiser step when due. `loss` is the micro-batch's loss already divided by the accumulation.
void seed_batch(uint64_t seed, BatchPosition at);
MicroStepResult finish_micro_step(Optimizer& optimizer, double loss);

}  // namespace sg::train
