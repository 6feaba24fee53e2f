#include "cli/options.h"

#include <ATen/cpu/Utils.h>
#include <CLI/CLI.hpp>

#include <cstdio>

#include "model/transformer.h"


namespace sg::cli {

train::TrainOptions TrainArgs::to_options() const {
  train::TrainOptions o;
  o.epochs = epochs;
  o.max_steps = max_steps;
  o.optimizer.lr = lr;
  o.optimizer.weight_decay = weight_decay;
  o.optimizer.warmup_steps = warmup_steps;
  o.optimizer.max_grad_norm = max_grad_norm;
  o.optimizer.accumulation = accumulation;
  o.seed = seed;
  o.metrics_path = metrics_path;
  o.checkpoint_dir = checkpoint_dir;
  o.checkpoint_every = checkpoint_every;
  return o;
}

data::BatchOptions TrainArgs::batching() const {
  data::BatchOptions b;
  b.batch_size = batch_size;
  b.max_tokens = max_tokens;
  b.seed = seed;
  return b;
}

void add_train_options(CLI::App& cmd, TrainArgs& a) {
  cmd.add_option("--epochs", a.epochs, "Passes over the data")->check(CLI::PositiveNumber)->capture_default_str();
  cmd.add_option("--max-steps", a.max_steps, "Optimiser steps (overrides --epochs)")->capture_default_str();
  cmd.add_option("--lr", a.lr, "Peak learning rate (AdamW)")->check(CLI::PositiveNumber)->capture_default_str();
  cmd.add_option("--weight-decay", a.weight_decay, "AdamW weight decay")->capture_default_str();
  cmd.add_option("--warmup", a.warmup_steps, "Linear warmup steps before cosine decay")->capture_default_str();
  cmd.add_option("--max-grad-norm", a.max_grad_norm, "Gradient clipping (0 = off)")->capture_default_str();
  cmd.add_option("--grad-accum", a.accumulation, "Micro-batches per optimiser step")->check(CLI::PositiveNumber)->capture_default_str();
  cmd.add_option("--batch-size", a.batch_size, "Examples per micro-batch")->check(CLI::PositiveNumber)->capture_default_str();
  cmd.add_option("--max-tokens", a.max_tokens, "Truncate examples to this many tokens")->check(CLI::PositiveNumber)->capture_default_str();
  cmd.add_option("--seed", a.seed, "Seed for init, data order and dropout")->capture_default_str();
  cmd.add_option("--threads", a.threads, "LibTorch threads (0 = all cores)")->capture_default_str();
  cmd.add_option("--metrics", a.metrics_path, "Append one JSON line per step to this file");
  cmd.add_option("--checkpoint-dir", a.checkpoint_dir, "Checkpoint here; resume from it when it holds one");
  cmd.add_option("--checkpoint-every", a.checkpoint_every, "Steps between checkpoints (0 = at the end)")->capture_default_str();
}

void add_dtype_option(CLI::App& cmd, std::string& dtype) {
  cmd.add_option("--dtype", dtype, "Compute precision of the frozen model: fp32 | bf16")
      ->check(CLI::IsMember({"fp32", "bf16"}))->capture_default_str();
}

namespace {
bool cpu_has_native_bf16() {
  const auto capabilities = at::cpu::get_cpu_capabilities();
  for (const char* flag : {"avx512_bf16", "amx_bf16"}) {
    const auto it = capabilities.find(flag);
    if (it != capabilities.end() && it->second.isBool() && it->second.toBool()) return true;
  }
  return false;
}
}  // namespace

void apply_dtype(model::Transformer& model, const std::string& dtype) {
  if (dtype == "fp32") return;
  if (!cpu_has_native_bf16())
    std::fprintf(stderr, "warning: this CPU has no native bf16 (AVX512-BF16 or AMX): --dtype bf16 runs slower than fp32\n");
  model.to(at::kBFloat16);
}

}  // namespace sg::cli
