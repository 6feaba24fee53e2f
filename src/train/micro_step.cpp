#include "train/micro_step.h"

#include <torch/torch.h>

namespace sg::train {

MicroStepResult run_micro_step(Optimizer& optimizer, int accumulation, uint64_t seed, BatchPosition at,
                               const std::function<at::Tensor()>& loss) {
  torch::manual_seed(seed + uint64_t(at.epoch) * 1000003u + at.index);
  auto value = loss() / double(accumulation);
  value.backward();
  MicroStepResult result;
  result.loss = value.item<double>();
  result.lr = optimizer.current_lr();
  result.stepped = optimizer.after_backward();
  return result;
}

}  // namespace sg::train
