#include "split/trainer_pool.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <random>
#include <stdexcept>

#include "split/model_digest.h"

namespace sg::split {
namespace {
constexpr const char* kSnapshot = "split.trainer";
constexpr const char* kGeneration = "split.generation";
}  // namespace

TrainerPool::TrainerPool(SplitJob job, tee::TrustedState& state)
    : job_(std::move(job)), state_(state), run_(std::random_device{}()) {
  (job_.parallel ? first_copy_ : shared_) = make_trainer();
}

std::unique_ptr<train::SliceTrainer> TrainerPool::make_trainer() const {
  auto options = job_.trainer;
  options.on_loaded = [this](const model::Transformer& slice) {
    const auto digest = slice_digest(slice, job_.trainer.model_dir);
    if (digest != job_.model_digest)
      throw std::runtime_error(job_.trainer.model_dir + ": the server slice loaded has digest " + digest +
                               ", but the measured job's model_digest is " + job_.model_digest +
                               ": the model files changed since the job was written");
  };
  return std::make_unique<train::SliceTrainer>(options);
}

void TrainerPool::restore_if_changed() {
  auto it = state_.find(kGeneration);
  if (it == state_.end() || it->second == generation_) return;
  const auto& blob = state_.at(kSnapshot);
  std::string snapshot(blob.begin(), blob.end());
  generation_ = it->second;
  if (shared_) {
    shared_->restore(snapshot);
    spdlog::info("split job: restored the sealed trainer at step {}", shared_->steps_done());
  } else {
    for (auto& [client, copy] : copies_) copy->restore(snapshot);
    restored_ = std::move(snapshot);
    spdlog::info("split job: restored the sealed averaged state for new client copies");
  }
}

train::SliceTrainer& TrainerPool::for_client(const crypto::Bytes& identity) {
  restore_if_changed();
  if (shared_) return *shared_;
  auto& copy = copies_[identity];
  if (!copy) {
    copy = first_copy_ ? std::move(first_copy_) : make_trainer();   // seeded: the same start for every copy
    if (!restored_.empty()) copy->restore(restored_);
  }
  return *copy;
}

void TrainerPool::average() {
  torch::NoGradGuard no_grad;
  std::vector<std::vector<at::Tensor>> params;
  for (auto& [client, copy] : copies_) params.push_back(copy->parameters());
  for (std::size_t i = 0; i < params.front().size(); ++i) {
    std::vector<at::Tensor> same;
    for (auto& p : params) same.push_back(p[i]);
    const auto mean = torch::stack(same).mean(0);
    for (auto& p : same) p.copy_(mean);
  }
}

void TrainerPool::snapshot(const train::SliceTrainer& trainer) {
  const auto bytes = trainer.snapshot();
  state_[kSnapshot] = crypto::Bytes(bytes.begin(), bytes.end());
  const std::string generation = std::to_string(run_) + ":" + std::to_string(trainer.steps_done());
  generation_ = crypto::Bytes(generation.begin(), generation.end());
  state_[kGeneration] = generation_;
}

void TrainerPool::after_step(train::SliceTrainer& trainer) {
  const int step = trainer.steps_done();
  const bool averaged = !shared_ && step % job_.average_every == 0;
  if (averaged) average();
  if (job_.seal_every > 0 && step % job_.seal_every == 0 && (shared_ || averaged)) snapshot(trainer);
}

}  // namespace sg::split
