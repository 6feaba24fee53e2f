#include "federated/client_adapter.h"

#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <algorithm>
#include <stdexcept>

#include "model/layers.h"
#include "model/transformer.h"
#include "rpc/serve.h"
#include "rpc/tensor_wire.h"
#include "tensor/archive_bytes.h"
#include "train/micro_step.h"

namespace sg::federated {
namespace {

using nlohmann::json;
using rpc::from_wire;
using rpc::to_wire;

constexpr std::size_t kMaxPendingCalls = 4096;   // forwards awaiting backward in one micro-step

// A named float32 tensor of a request with the expected rank.
at::Tensor tensor(const crypto::Envelope& request, const std::string& name, int64_t dim) {
  if (!request.find(name)) throw std::invalid_argument("request without tensor '" + name + "'");
  return from_wire(request, name, torch::kFloat32, dim);
}

// A LoRA group's shared input "x", of any rank.
at::Tensor input(const crypto::Envelope& request) {
  const crypto::Tensor* wire = request.find("x");
  if (!wire) throw std::invalid_argument("request without the group's input 'x'");
  return from_wire(request, "x", torch::kFloat32, int64_t(wire->meta.shape.size()));
}

void set_generator_state(const at::Tensor& state) {
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

// Layer `layer`'s queries q (B,H,T,E) over the prefix keys: the part of attention and its log-sum-exp.
model::PartialAttention prefix_attention(const peft::Prefix& prefix, int layer, const at::Tensor& q) {
  const auto cache = prefix.initial_cache(1);
  if (layer < 0 || layer >= int(cache.keys.size()))
    throw std::invalid_argument("layer " + std::to_string(layer) + " outside the prefix's " +
                                std::to_string(cache.keys.size()) + " layers");
  if (q.size(3) != prefix.head_dim() || q.size(1) % cache.keys[layer].size(1) != 0)
    throw std::invalid_argument("queries of shape " + c10::str(q.sizes()) + " do not fit the prefix's heads");
  return model::attend_partial(q, cache.keys[layer], cache.values[layer], {});
}

}  // namespace

ops::Init::Reply ClientAdapter::init(const ops::Init::Request& request) {
  if (ready()) throw std::invalid_argument("init twice");
  const auto options = torch::TensorOptions().dtype(torch::kFloat32);
  torch::manual_seed(job_.seed);   // the same draws as Lora::attach / Prefix::create after `finetune --seed`
  ops::Init::Reply reply;
  reply.method = job_.method;
  reply.accumulation = job_.optimizer.accumulation;
  if (job_.method == "ptuning") {
    if (request.model.layers < 1) throw std::invalid_argument("'init' without the model's shape ('model')");
    prefix_.emplace(peft::Prefix::create(request.model, job_.prefix, options));
    reply.num_virtual_tokens = job_.prefix.num_virtual_tokens;
  } else {
    if (request.modules.empty()) throw std::invalid_argument("'init' without the model's linear modules ('modules')");
    lora_.emplace(peft::Lora::create(request.modules, job_.lora, options));
    lora_->set_training(true);
    for (const auto& [name, m] : lora_->modules()) reply.adapted.push_back(name);
  }
  for (const auto& p : parameters()) reply.trainable_parameters += p.numel();
  spdlog::info("federated client: {} ({} modules), {} parameters held in the enclave", reply.method,
               reply.adapted.size(), reply.trainable_parameters);
  return reply;
}

std::vector<at::Tensor> ClientAdapter::parameters() const { return lora_ ? lora_->parameters() : prefix_->parameters(); }

void ClientAdapter::micro(const ops::Micro::Request& at) {
  train::seed_batch(job_.seed, {at.epoch, at.index});
  micro_counted_ = false;
}

ops::Step::Reply ClientAdapter::step(double loss) {
  if (!optimizer_) throw std::invalid_argument("step before begin");
  pending_.clear();
  const auto r = train::finish_micro_step(*optimizer_, loss);
  return {r.stepped, optimizer_->step(), r.lr};
}

std::vector<std::pair<std::string, at::Tensor>> ClientAdapter::held_tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> held;
  if (prefix_)
    for (const auto& [name, p] : prefix_->named_parameters()) held.emplace_back("prefix." + name, p);
  if (lora_)
    for (const auto& [name, m] : lora_->modules()) {
      held.emplace_back(name + ".lora_A.weight", m->a());
      held.emplace_back(name + ".lora_B.weight", m->b());
    }
  return held;
}

void ClientAdapter::install(const crypto::Envelope& global) {
  torch::NoGradGuard no_grad;
  const auto held = held_tensors();
  if (global.tensors.size() != held.size())
    throw std::invalid_argument("the global adapter has " + std::to_string(global.tensors.size()) +
                                " tensors, this enclave holds " + std::to_string(held.size()));
  for (const auto& [name, param] : held) {
    auto value = from_wire(global, name, torch::kFloat32, param.dim());
    if (value.sizes() != param.sizes())
      throw std::invalid_argument("global tensor '" + name + "' has shape " + c10::str(value.sizes()) +
                                  ", this enclave's is " + c10::str(param.sizes()));
    param.copy_(value);
  }
}

void ClientAdapter::count_examples(int64_t rows) {
  if (micro_counted_) return;
  examples_ += rows;
  micro_counted_ = true;
}

int64_t ClientAdapter::round_examples() const {
  if (examples_ < 1) throw std::invalid_argument("submit without a trained example since the last global adapter");
  return examples_;
}

// --- the snapshot: a restarted client continues its AdamW from the last round's end. The adapter itself comes
// from the server enclave when the client rejoins (the newest global), never from the seal.

std::string ClientAdapter::snapshot() const {
  if (!optimizer_) return {};
  torch::serialize::OutputArchive archive;
  for (const auto& [name, tensor] : held_tensors()) archive.write("adapter." + name, tensor.detach());
  archive.write("total_steps", torch::tensor(int64_t(total_steps_)));
  optimizer_->save(archive, "optimizer");
  return tensor::archive_bytes(archive);
}

void ClientAdapter::restore(const std::string& bytes) {
  torch::serialize::InputArchive archive;
  tensor::load_archive_bytes(archive, bytes);
  at::Tensor total;
  archive.read("total_steps", total);
  if (total.item<int64_t>() != total_steps_)
    throw std::invalid_argument("the sealed client state is of a run of " + std::to_string(total.item<int64_t>()) +
                                " optimiser steps, this run plans " + std::to_string(total_steps_) +
                                " (other data or options): move the sealed state away to start fresh");
  for (const auto& [name, param] : held_tensors()) {   // the moments must fit these parameters
    at::Tensor saved;
    if (!archive.try_read("adapter." + name, saved) || saved.sizes() != param.sizes())
      throw std::invalid_argument("the sealed client state has no tensor '" + name + "' of shape " +
                                  c10::str(param.sizes()) + ": it belongs to another model or adapter");
  }
  optimizer_->load(archive, "optimizer");
  spdlog::info("federated client: restored the sealed optimiser at step {}", optimizer_->step());
}

// --- LoRA: the adapters' contributions at every adapted module. Only the random-number state that drew a
// call's dropout masks is kept, to draw the same masks again in backward.

const peft::LoraAdapter& ClientAdapter::module(const std::string& name) const {
  auto it = lora_->modules().find(name);
  if (it == lora_->modules().end()) throw std::invalid_argument("module '" + name + "' has no adapter here");
  return *it->second;
}

std::vector<std::string> ClientAdapter::checked_modules(const std::vector<std::string>& modules) const {
  for (const auto& name : modules) module(name);   // each must have an adapter here
  return modules;
}

// The CPU generator's state before a forward's dropout draws; undefined without dropout (nothing to redraw).
at::Tensor ClientAdapter::dropout_state() const {
  if (job_.lora.dropout <= 0) return {};
  auto generator = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

crypto::Envelope ClientAdapter::forward(const ops::Forward::Request& request, const crypto::Envelope& tensors) {
  if (!lora_) throw std::invalid_argument("this client enclave holds a prefix, not LoRA");
  const auto x = input(tensors);
  const auto modules = checked_modules(request.modules);
  lora_->set_training(request.train);   // dropout only while training
  if (request.train) {
    if (pending_.size() >= kMaxPendingCalls)
      throw std::invalid_argument("more than " + std::to_string(kMaxPendingCalls) + " forwards without a step");
    pending_[request.call] = {modules, x.sizes().vec(), dropout_state()};
  }
  torch::NoGradGuard no_grad;
  std::vector<crypto::Tensor> out;
  for (const auto& name : modules) out.push_back(to_wire(name, module(name).delta(x)));
  return rpc::reply(json::object(), std::move(out));
}

crypto::Envelope ClientAdapter::backward(const ops::Backward::Request& request, const crypto::Envelope& tensors) {
  auto it = pending_.find(request.call);
  if (it == pending_.end())
    throw std::invalid_argument("backward for call " + std::to_string(request.call) +
                                ", which no training forward made");
  const Call call = std::move(it->second);
  pending_.erase(it);
  for (const auto& t : tensors.tensors)
    if (t.meta.name != "x" && std::find(call.modules.begin(), call.modules.end(), t.meta.name) == call.modules.end())
      throw std::invalid_argument("gradient for module '" + t.meta.name + "' not in this call");
  auto x = input(tensors).requires_grad_(true);
  count_examples(x.size(0));
  if (x.sizes() != at::IntArrayRef(call.input_shape))
    throw std::invalid_argument("backward of call " + std::to_string(request.call) + " brings x of shape " +
                                c10::str(x.sizes()) + ", its forward's was " + c10::str(call.input_shape));
  lora_->set_training(true);
  torch::AutoGradMode grad_mode(true);
  // The forward's dropout masks, drawn again. The next micro-batch reseeds (op `micro`), so nothing later
  // depends on where this leaves the generator.
  if (call.dropout_state.defined()) set_generator_state(call.dropout_state);
  std::vector<at::Tensor> outputs, grads;
  for (const auto& name : call.modules) {
    auto delta = module(name).delta(x);   // every module, in the forward's order: the same draws
    if (!tensors.find(name)) continue;    // an output the host's loss did not reach
    auto grad = from_wire(tensors, name, torch::kFloat32, delta.dim());
    if (grad.sizes() != delta.sizes())
      throw std::invalid_argument("gradient for '" + name + "' has shape " + c10::str(grad.sizes()) +
                                  ", its output " + c10::str(delta.sizes()));
    outputs.push_back(delta);
    grads.push_back(grad);
  }
  if (!outputs.empty()) torch::autograd::backward(outputs, grads);
  const auto dx = x.grad().defined() ? x.grad() : torch::zeros_like(x);
  return rpc::reply(json::object(), {to_wire("dx", dx)});
}

// --- the prefix: this enclave's part of every layer's attention.

crypto::Envelope ClientAdapter::prefix_forward(int layer, const crypto::Envelope& tensors) const {
  if (!prefix_) throw std::invalid_argument("this client enclave holds LoRA, not a prefix");
  torch::NoGradGuard no_grad;   // backward recomputes: the enclave keeps no activations between calls
  const auto part = prefix_attention(*prefix_, layer, tensor(tensors, "q", 4));
  return rpc::reply(json::object(), {to_wire("out", part.out), to_wire("lse", part.lse)});
}

crypto::Envelope ClientAdapter::prefix_backward(int layer, const crypto::Envelope& tensors) {
  if (!prefix_) throw std::invalid_argument("this client enclave holds LoRA, not a prefix");
  auto q = tensor(tensors, "q", 4).requires_grad_(true);
  count_examples(q.size(0));
  auto d_out = tensor(tensors, "d_out", 4), d_lse = tensor(tensors, "d_lse", 3);
  torch::AutoGradMode grad_mode(true);
  const auto part = prefix_attention(*prefix_, layer, q);
  if (d_out.sizes() != part.out.sizes() || d_lse.sizes() != part.lse.sizes())
    throw std::invalid_argument("prefix gradients of shapes " + c10::str(d_out.sizes()) + " and " +
                                c10::str(d_lse.sizes()) + " for queries " + c10::str(q.sizes()));
  torch::autograd::backward({part.out, part.lse}, {d_out, d_lse});   // accumulates into the prefix
  return rpc::reply(json::object(), {to_wire("dq", q.grad())});
}

}  // namespace sg::federated
