// Options shared by the training subcommands (finetune, pretrain, and later client/server).
#pragma once

#include <cstdint>
#include <string>

#include "data/dataset.h"
#include "train/local_trainer.h"

namespace CLI {
class App;
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
}  // namespace sg::cli
