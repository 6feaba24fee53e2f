#include "train/optimizer.h"

#include <torch/torch.h>

#include <fstream>

#include "train/schedule.h"

namespace sg::train {

struct Optimizer::Impl {
  std::vector<at::Tensor> parameters;
  std::unique_ptr<torch::optim::AdamW> adamw;
};

Optimizer::Optimizer(std::vector<at::Tensor> parameters, const OptimizerOptions& options)
    : impl_(std::make_unique<Impl>()), options_(options) {
  if (parameters.empty()) throw std::invalid_argument("optimizer: no trainable parameters");
  if (options.accumulation < 1) throw std::invalid_argument("optimizer: accumulation must be >= 1");
  impl_->parameters = std::move(parameters);
  impl_->adamw = std::make_unique<torch::optim::AdamW>(
      impl_->parameters, torch::optim::AdamWOptions(options.lr)
                             .betas({options.beta1, options.beta2})
                             .eps(options.eps)
                             .weight_decay(options.weight_decay));
}

Optimizer::~Optimizer() = default;

double Optimizer::current_lr() const {
  return cosine_with_warmup(step_, options_.total_steps, options_.warmup_steps, options_.lr);
}

bool Optimizer::after_backward() {
  if (++micro_ < options_.accumulation) return false;
  micro_ = 0;
  if (options_.max_grad_norm > 0)
    last_grad_norm_ = torch::nn::utils::clip_grad_norm_(impl_->parameters, options_.max_grad_norm);
  // The schedule as HF applies it: the lr of step s is schedule(s), with s counted from 0.
  const double lr = current_lr();
  for (auto& group : impl_->adamw->param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
  impl_->adamw->step();
  impl_->adamw->zero_grad();
  ++step_;
  return true;
}

namespace {
void write_state(const torch::optim::AdamW& adamw, int step, torch::serialize::OutputArchive& archive) {
  adamw.save(archive);
  archive.write("step", torch::tensor(int64_t(step)));
}
}  // namespace

void Optimizer::save(const std::string& path) const {
  torch::serialize::OutputArchive archive;
  write_state(*impl_->adamw, step_, archive);
  archive.save_to(path);
}

void Optimizer::save(torch::serialize::OutputArchive& archive, const std::string& key) const {
  torch::serialize::OutputArchive own;
  write_state(*impl_->adamw, step_, own);
  archive.write(key, own);
}

void Optimizer::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read the optimizer state");
  torch::serialize::InputArchive archive;
  archive.load_from(in);
  read_state(archive);
}

void Optimizer::load(torch::serialize::InputArchive& archive, const std::string& key) {
  torch::serialize::InputArchive own;
  archive.read(key, own);
  read_state(own);
}

void Optimizer::read_state(torch::serialize::InputArchive& archive) {
  impl_->adamw->load(archive);
  at::Tensor step;
  archive.read("step", step);
  step_ = int(step.item<int64_t>());
  micro_ = 0;
}

}  // namespace sg::train
