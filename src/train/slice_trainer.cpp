#include "train/slice_trainer.h"

#include <torch/torch.h>

#include <optional>
#include <stdexcept>

#include "model/transformer.h"
#include "peft/adapter_files.h"
#include "tensor/archive_bytes.h"
#include "train/loss.h"

namespace sg::train {

struct SliceTrainer::Impl {
  SliceTrainerOptions options;
  model::Transformer model;
  peft::AdapterSet adapters;
  std::optional<Optimizer> optimizer;
  int total_steps = 0;

  Impl(const SliceTrainerOptions& o, model::Transformer m) : options(o), model(std::move(m)) {}

  at::Tensor forward(const at::Tensor& hidden, const at::Tensor& attention_mask) const {
    const auto& c = model.config();
    if (hidden.dim() != 3 || hidden.size(2) != c.hidden_size)
      throw std::invalid_argument("split step: activations have shape " + c10::str(hidden.sizes()) +
                                  ", expected (batch, tokens, " + std::to_string(c.hidden_size) + ")");
    if (attention_mask.sizes() != hidden.sizes().slice(0, 2))
      throw std::invalid_argument("split step: attention_mask has shape " + c10::str(attention_mask.sizes()) +
                                  ", expected " + c10::str(hidden.sizes().slice(0, 2)));
    // Positions come from the mask alone; the token ids never reach the server.
    auto ctx = model::ForwardContext::for_tokens(attention_mask, attention_mask);
    return finish(model.forward_layers(hidden, options.cut_layer, c.num_layers, ctx));
  }

  // The head when the slice has it; u-shaped slices end at their last layer's output.
  at::Tensor finish(const at::Tensor& output) const { return options.head ? model.head(output) : output; }
};

namespace {
model::Transformer load_server_slice(const SliceTrainerOptions& options) {
  const auto config = model::load_config(options.model_dir);
  if (options.cut_layer < 1 || options.cut_layer >= config.num_layers)
    throw std::invalid_argument("split: cut layer " + std::to_string(options.cut_layer) + " is outside [1, " +
                                std::to_string(config.num_layers - 1) + "] for " + options.model_dir);
  model::SliceSpec spec;
  spec.embedding = false;
  spec.first_layer = options.cut_layer;
  spec.end_layer = config.num_layers;
  spec.head = options.head;
  auto slice = model::Transformer::load(options.model_dir, spec);
  if (options.on_loaded) options.on_loaded(slice);
  return slice;
}
}  // namespace

SliceTrainer::SliceTrainer(const SliceTrainerOptions& options)
    : impl_(std::make_unique<Impl>(options, load_server_slice(options))) {
  auto method = options.method;
  method.first_layer = options.cut_layer;
  method.end_layer = -1;
  if (method.method == "ptuning")
    throw std::invalid_argument("split: ptuning needs a prefix on every layer, the client's included; use lora, spf or spf+lora");
  if (peft::method_uses_spf(method.method) && method.spf.score == peft::SpfScore::Grad)
    throw std::invalid_argument("split: SPF score 'grad' needs a calibration pass over client data; use l1 or random");
  torch::manual_seed(options.seed);   // adapter init, as `sliceguard finetune` seeds it
  impl_->adapters = peft::attach_method(impl_->model, method);
  impl_->adapters.set_training(true);
  if (options.total_steps > 0) begin(options.total_steps);
}

SliceTrainer::~SliceTrainer() = default;

void SliceTrainer::begin(int total_steps) {
  if (impl_->optimizer) return;
  if (total_steps < 1) throw std::invalid_argument("split: a run needs at least one step, got " + std::to_string(total_steps));
  auto optimizer = impl_->options.optimizer;
  optimizer.total_steps = total_steps;
  impl_->optimizer.emplace(impl_->adapters.parameters(), optimizer);
  impl_->total_steps = total_steps;
}

MicroStepResult SliceTrainer::train(const at::Tensor& hidden, const at::Tensor& attention_mask,
                                    const at::Tensor& labels, BatchPosition at) {
  if (!impl_->optimizer) throw std::logic_error("split: train before begin");
  if (!impl_->options.head) throw std::logic_error("split: a u-shaped slice has no head to compute the loss with");
  if (labels.sizes() != attention_mask.sizes())
    throw std::invalid_argument("split step: labels have shape " + c10::str(labels.sizes()) + ", expected " +
                                c10::str(attention_mask.sizes()));
  return run_micro_step(*impl_->optimizer, impl_->options.optimizer.accumulation, impl_->options.seed, at,
                        // The full head: this runs in the enclave, whose timing the host sees, and the head at
                        // the labelled positions alone would take time in proportion to the client's labels.
                        [&] { return causal_lm_loss(impl_->forward(hidden, attention_mask), labels); });
}

at::Tensor SliceTrainer::forward_to_client(const at::Tensor& hidden, const at::Tensor& attention_mask,
                                           BatchPosition at) {
  if (!impl_->optimizer) throw std::logic_error("split: train before begin");
  seed_batch(impl_->options.seed, at);
  return impl_->forward(hidden, attention_mask);
}

MicroStepResult SliceTrainer::backward_from_client(const at::Tensor& output, const at::Tensor& grad, double loss) {
  if (grad.sizes() != output.sizes())
    throw std::invalid_argument("split backward: gradient has shape " + c10::str(grad.sizes()) + ", expected " +
                                c10::str(output.sizes()));
  output.backward(grad);
  return finish_micro_step(*impl_->optimizer, loss);
}

at::Tensor SliceTrainer::logits(const at::Tensor& hidden, const at::Tensor& attention_mask) const {
  torch::NoGradGuard no_grad;
  impl_->adapters.set_training(false);
  auto out = impl_->forward(hidden, attention_mask);
  impl_->adapters.set_training(true);
  return out;
}

std::string SliceTrainer::snapshot() const {
  if (!impl_->optimizer) throw std::logic_error("split: snapshot before begin");
  torch::serialize::OutputArchive archive;
  const auto params = impl_->adapters.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) archive.write("p" + std::to_string(i), params[i].detach());
  archive.write("total_steps", torch::tensor(int64_t(impl_->total_steps)));
  impl_->optimizer->save(archive, "optimizer");
  return tensor::archive_bytes(archive);
}

void SliceTrainer::restore(const std::string& snapshot) {
  torch::serialize::InputArchive archive;
  tensor::load_archive_bytes(archive, snapshot);
  at::Tensor total;
  archive.read("total_steps", total);
  impl_->optimizer.reset();
  begin(int(total.item<int64_t>()));
  torch::NoGradGuard no_grad;
  const auto params = impl_->adapters.parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    at::Tensor saved;
    archive.read("p" + std::to_string(i), saved);
    if (saved.sizes() != params[i].sizes())
      throw std::invalid_argument("split: snapshot tensor " + std::to_string(i) + " has shape " +
                                  c10::str(saved.sizes()) + ", this trainer's is " + c10::str(params[i].sizes()));
    params[i].copy_(saved);
  }
  impl_->optimizer->load(archive, "optimizer");
}

at::Tensor SliceTrainer::next_token_logits(const at::Tensor& hidden, model::KvCache& cache, int64_t past) const {
  const auto& c = impl_->model.config();
  if (hidden.dim() != 3 || hidden.size(0) != 1 || hidden.size(2) != c.hidden_size)
    throw std::invalid_argument("split generate: activations have shape " + c10::str(hidden.sizes()) +
                                ", expected (1, tokens, " + std::to_string(c.hidden_size) + ")");
  if (cache.length(impl_->options.cut_layer) != past)
    throw std::invalid_argument("split generate: position " + std::to_string(past) + " but the enclave's cache holds " +
                                std::to_string(cache.length(impl_->options.cut_layer)) + " tokens");
  torch::NoGradGuard no_grad;
  impl_->adapters.set_training(false);
  auto shape = torch::zeros({1, hidden.size(1)}, torch::kInt64);
  auto ctx = model::ForwardContext::for_tokens(shape, {}, &cache, past);
  auto out = impl_->finish(impl_->model.forward_layers(hidden, impl_->options.cut_layer, c.num_layers, ctx));
  impl_->adapters.set_training(true);
  return out[0][-1];
}

std::vector<at::Tensor> SliceTrainer::parameters() const { return impl_->adapters.parameters(); }

int SliceTrainer::steps_done() const { return impl_->optimizer ? impl_->optimizer->step() : 0; }
int SliceTrainer::total_steps() const { return impl_->total_steps; }
int64_t SliceTrainer::trainable_parameters() const { return impl_->adapters.trainable_parameters(); }
int SliceTrainer::accumulation() const { return impl_->options.optimizer.accumulation; }
int SliceTrainer::cut_layer() const { return impl_->options.cut_layer; }
const std::string& SliceTrainer::method() const { return impl_->options.method.method; }
int SliceTrainer::hidden_size() const { return int(impl_->model.config().hidden_size); }

}  // namespace sg::train
