#include "train/micro_step.h"

#include <torch/torch.h>

namespace sg::train {

void seed_batch(uint64_t seed, BatchPosition at) { torch::manual_seed(seed + uint64_t(at.epoch) * 1000003u + at.index); }

MicroStepResult finish_micro_step(Optimizer& optimizer, double loss) {
  MicroStepResult result;
  result.loss = loss;
  result.lr = optimizer.current_lr();
  result.stepped = optimizer.after_backward();
  return result;
}

MicroStepResult run_micro_step(Optimizer& optimizer, int accumulation, uint64_t seed, BatchPosition at,
                               const std::function<at::Tensor()>& loss) {
  seed_batch(seed, at);
  auto value = loss() / double(accumulation);
  value.backward();
  return finish_micro_step(optimizer, value.item<double>());
}

}  // namespace sg::train
