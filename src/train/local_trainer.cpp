#include "train/local_trainer.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "model/transformer.h"
#include "tensor/torch_bridge.h"
#include "train/loss.h"
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

LossFn causal_lm_objective(const model::Transformer& model) {
  return [&model](const data::Batch& b) {
    auto ctx = model::ForwardContext::for_tokens(b.input_ids, b.attention_mask);
    return causal_lm_loss(model.forward(b.input_ids, ctx), b.labels);
  };
}

TrainResult train_local(const std::vector<at::Tensor>& trainable, const LossFn& loss, const EpochBatches& batches,
                        const TrainOptions& options) {
  auto first_epoch = batches(0);
  if (first_epoch.empty()) throw std::invalid_argument("train: the dataset produced no batches");
  const int accumulation = options.optimizer.accumulation;
  const int steps_per_epoch = std::max<int>(1, int(first_epoch.size()) / accumulation);
  const int total_steps = options.max_steps > 0 ? options.max_steps : options.epochs * steps_per_epoch;
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
    // Dropout draws depend only on (seed, position), so a resumed run repeats them exactly.
    torch::manual_seed(options.seed + uint64_t(at.epoch) * 1000003u + at.batch);
    auto value = loss(batch) / double(accumulation);
    value.backward();
    step_loss += value.item<double>();
    step_tokens += batch.tokens();
    ++at.batch;
    const double lr = optimizer.current_lr();
    if (!optimizer.after_backward()) continue;
    at.step = optimizer.step();
    result.losses.push_back(step_loss);
    progress.report({at.step, step_loss, lr, optimizer.last_grad_norm(), step_tokens});
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
