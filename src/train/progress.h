// Training progress: a one-line bar when stderr is a terminal, plain log lines otherwise, and every
// optimiser step as one JSON line in a metrics file.
#pragma once

#include <chrono>
#include <fstream>
#include <string>

namespace sg::train {

struct StepMetrics {
  int step = 0;            // optimiser steps done
  double loss = 0;
  double lr = 0;
  double grad_norm = 0;
  int64_t tokens = 0;      // tokens in this step
};

class Progress {
 public:
  // `metrics_path` empty: no metrics file. `log_every`: steps between plain log lines.
  Progress(int total_steps, const std::string& metrics_path, int log_every = 10);
  void report(const StepMetrics& m);
  void finish();
  double elapsed_seconds() const;
  int64_t tokens_seen() const { return tokens_; }

 private:
  int total_steps_;
  int log_every_;
  bool terminal_;
  std::ofstream metrics_;
  std::chrono::steady_clock::time_point start_;
  int64_t tokens_ = 0;
};

}  // namespace sg::train
