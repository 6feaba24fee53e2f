// The optimiser every trainer uses on its trainable tensors: AdamW (LibTorch), cosine schedule with warmup,
// global-norm gradient clipping, gradient accumulation. Lives wherever the parameters live (an enclave, too).
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

namespace torch::serialize {
class InputArchive;
class OutputArchive;
}  // namespace torch::serialize

namespace sg::train {

struct OptimizerOptions {
  double lr = 1e-3;
  double weight_decay = 0.0;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  int warmup_steps = 0;
  int total_steps = 1;        // for the cosine schedule
  double max_grad_norm = 1.0; // <= 0: no clipping
  int accumulation = 1;       // micro-batches per optimiser step
};

class Optimizer {
 public:
  Optimizer(std::vector<at::Tensor> parameters, const OptimizerOptions& options);
  ~Optimizer();

  // Call after each micro-batch's backward (the loss already divided by `accumulation`). Returns true when
  // an optimiser step was taken (every `accumulation` calls); the gradients are then cleared.
  bool after_backward();
  int step() const { return step_; }
  double current_lr() const;
  double last_grad_norm() const { return last_grad_norm_; }

  // Optimiser state (moments, step) for exact resume.
  void save(const std::string& path) const;
  void load(const std::string& path);
  // As one entry of a LibTorch archive: sealed snapshots keep it beside the adapter's tensors.
  void save(torch::serialize::OutputArchive& archive, const std::string& key) const;
  void load(torch::serialize::InputArchive& archive, const std::string& key);

 private:
  void read_state(torch::serialize::InputArchive& archive);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  OptimizerOptions options_;
  int step_ = 0;
  int micro_ = 0;
  double last_grad_norm_ = 0;
};

}  // namespace sg::train
