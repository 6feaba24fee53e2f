#include "train/local_trainer.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "model/transformer.h"
#include "tensor/torch_bridge.h"
#include "train/loss.h"
#include "train/micro_step.h"
#include "train/progress.h"

namespace sg::train {
namespace {

namespace fs = std::filesystem;

struct Position {
  int step = 0;    // optimiser steps done
  int epoch = 0;
  size_t batch = 0;   // next micro-batch within the epoch
};

// Checkpoint layout: trainable.safetensors (tensors in order), optimizer.pt, state.json (position, losses).
void save_checkpoint(const std::string& dir, const std::vector<at::Tensor>& trainable, const Optimizer& optimizer,
                     const Position& at, const std::vector<double>& losses) {
  const fs::path tmp = fs::path(dir) / "checkpoint.tmp";
  fs::create_directories(tmp);
  std::vector<std::pair<std::string, at::Tensor>> named;
  for (size_t i = 0; i < trainable.size(); ++i) named.emplace_back("t" + std::to_string(i), trainable[i].detach());
  tensor::save_tensors((tmp / "trainable.safetensors").string(), named);
  optimizer.save((tmp / "optimizer.pt").string());
  std::ofstream(tmp / "state.json") << nlohmann::json{{"step", at.step}, {"epoch", at.epoch}, {"batch", at.batch},
                                                      {"losses", losses}}.dump();
  const fs::path final_dir = fs::path(dir) / "checkpoint";
  fs::remove_all(final_dir);
  fs::rename(tmp, final_dir);   // a crash mid-write leaves the previous checkpoint intact
}

bool load_checkpoint(const std::string& dir, const std::vector<at::Tensor>& trainable, Optimizer& optimizer,
                     Position& at, std::vector<double>& losses) {
  const fs::path root = fs::path(dir) / "checkpoint";
  if (!fs::exists(root / "state.json")) return false;
  tensor::Checkpoint saved((root / "trainable.safetensors").string());
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < trainable.size(); ++i) {
    auto t = tensor::load_tensor(saved, "t" + std::to_string(i));
    if (t.sizes() != trainable[i].sizes())
      throw std::runtime_error((root / "trainable.safetensors").string() + ": tensor 't" + std::to_string(i) +
                               "' has shape " + c10::str(t.sizes()) + ", the run expects " +
                               c10::str(trainable[i].sizes()));
    trainable[i].copy_(t);
  }
  optimizer.load((root / "optimizer.pt").string());
  std::ifstream in(root / "state.json");
  auto state = nlohmann::json::parse(in);
  at = {state["step"].get<int>(), state["epoch"].get<int>(), state["batch"].get<size_t>()};
  losses = state["losses"].get<std::vector<double>>();
  return true;
}

}  // namespace

EpochBatches shuffled_epochs(const data::Dataset& dataset, const model::Tokenizer& tokenizer,
                             const data::BatchOptions& options) {
  return [&dataset, &tokenizer, options](int epoch) {
    auto batching = options;
    batching.seed = options.seed + uint64_t(epoch);
    return data::make_batches(dataset, tokenizer, batching);
  };
}

int planned_steps(std::size_t batches_per_epoch, const TrainOptions& options) {
  if (options.max_steps > 0) return options.max_steps;
  return options.epochs * std::max<int>(1, int(batches_per_epoch) / options.optimizer.accumulation);
}

LossFn causal_lm_objective(const model::Transformer& model) {
  return [&model](const data::Batch& b) {
    auto ctx = model::ForwardContext::for_tokens(b.input_ids, b.attention_mask);
    return causal_lm_loss_at_labels(model.hidden_states(b.input_ids, ctx), b.labels, model);
  };
}

TrainResult train_local(const std::vector<at::Tensor>& trainable, const LossFn& loss, const EpochBatches& batches,
                        const TrainOptions& options) {
  auto first_epoch = batches(0);
  if (first_epoch.empty()) throw std::invalid_argument("train: the dataset produced no batches");
  const int accumulation = options.optimizer.accumulation;
  const int total_steps = planned_steps(first_epoch.size(), options);
  OptimizerOptions optimizer_options = options.optimizer;
  optimizer_options.total_steps = total_steps;
  Optimizer optimizer(trainable, optimizer_options);

  Position at;
  TrainResult result;
  if (!options.checkpoint_dir.empty())
    load_checkpoint(options.checkpoint_dir, trainable, optimizer, at, result.losses);
  Progress progress(total_steps, options.metrics_path, options.log_every);

  double step_loss = 0;
  int64_t step_tokens = 0;
  std::vector<data::Batch> epoch_batches = at.epoch == 0 ? std::move(first_epoch) : batches(at.epoch);
  while (at.step < total_steps) {
    if (at.batch >= epoch_batches.size()) {
      epoch_batches = batches(++at.epoch);
      at.batch = 0;
    }
    const auto& batch = epoch_batches[at.batch];
    const auto micro = run_micro_step(optimizer, accumulation, options.seed, {at.epoch, at.batch},
                                      [&] { return loss(batch); });
    step_loss += micro.loss;
    step_tokens += batch.tokens();
    result.examples += batch.input_ids.size(0);
    ++at.batch;
    if (!micro.stepped) continue;
    at.step = optimizer.step();
    result.losses.push_back(step_loss);
    progress.report({at.step, step_loss, micro.lr, optimizer.last_grad_norm(), step_tokens});
    step_loss = 0;
    step_tokens = 0;
    const bool periodic = options.checkpoint_every > 0 && at.step % options.checkpoint_every == 0;
    if (!options.checkpoint_dir.empty() && (periodic || at.step == total_steps))
      save_checkpoint(options.checkpoint_dir, trainable, optimizer, at, result.losses);
  }
  progress.finish();
  result.steps = at.step;
  result.tokens = progress.tokens_seen();
  result.seconds = progress.elapsed_seconds();
  return result;
}

}  // namespace sg::train
