// Options shared by the training subcommands (finetune, pretrain, and later client/server).
#pragma once

#include <cstdint>
#include <string>

#include "data/dataset.h"
#include "train/local_trainer.h"

namespace CLI {
class App;
}
namespace sg::model {
class Transformer;
}

namespace sg::cli {

struct TrainArgs {
  int epochs = 1;
  int max_steps = -1;
  double lr = 1e-3;
  double weight_decay = 0.0;
  int warmup_steps = 0;
  double max_grad_norm = 1.0;
  int accumulation = 1;
  int batch_size = 8;
  size_t max_tokens = 256;
  uint64_t seed = 0;
  int threads = 0;
  std::string metrics_path;
  std::string checkpoint_dir;
  int checkpoint_every = 0;

  train::TrainOptions to_options() const;
  data::BatchOptions batching() const;
};

void add_train_options(CLI::App& cmd, TrainArgs& args);

// --dtype fp32|bf16: the precision the frozen model computes in (default fp32). Under bf16 what trains stays fp32
// (LoRA's master weights); only LoRA trains under bf16.
void add_dtype_option(CLI::App& cmd, std::string& dtype);
// Converts a loaded model to the --dtype; warns on stderr when the CPU has no native bf16 (AVX512-BF16 or AMX),
// where bf16 is slower than fp32.
void apply_dtype(model::Transformer& model, const std::string& dtype);
}  // namespace sg::cli
