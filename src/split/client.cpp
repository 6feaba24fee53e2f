#include "split/client.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <stdexcept>

#include "model/transformer.h"
#include "rpc/call.h"
#include "rpc/tensor_wire.h"
#include "split/protocol.h"
#include "train/loss.h"
#include "train/step_driver.h"

namespace sg::split {
namespace {

using rpc::from_wire;
using rpc::to_wire;

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

}  // namespace

struct SplitClient::Impl {
  slicing::SlicePlan plan;
  model::Transformer front;
  rpc::Transport transport;
  SplitTimings timings;
  model::KvCache cache;   // split generation: the front layers' keys and values

  Impl(const std::string& model_dir, const slicing::SlicePlan& p, rpc::Transport t)
      : plan(p), front(model::Transformer::load(model_dir, p.client_slice(model::load_config(model_dir)))),
        transport(std::move(t)) {
    if (plan.kind == slicing::PlanKind::Federated)
      throw std::invalid_argument(plan.source + ": a federated plan has no server slice to split with");
  }

  bool u_shaped() const { return plan.kind == slicing::PlanKind::UShaped; }

  // The enclave's answer as logits: split enclaves send them; u-shaped ones send their output for our head.
  at::Tensor to_logits(const crypto::Envelope& reply, int64_t dims) {
    if (!u_shaped()) return from_wire(reply, "logits", torch::kFloat32, dims);
    torch::NoGradGuard no_grad;
    auto output = from_wire(reply, "output", torch::kFloat32, dims);
    return dims == 1 ? front.head(output.view({1, 1, -1})).view({-1}) : front.head(output);
  }

  // U-shaped micro-step: the enclave's output through our head and loss; the gradient at that output goes back.
  ops::StepReply u_shaped_step(const data::Batch& batch, const at::Tensor& hidden, train::BatchPosition at,
                               int accumulation) {
    crypto::Envelope reply;
    call<ops::Forward>({at.epoch, at.index}, {to_wire("hidden", hidden), to_wire("attention_mask", batch.attention_mask)},
                       &reply);
    const auto start = Clock::now();
    auto output = from_wire(reply, "output", torch::kFloat32, 3).requires_grad_(true);
    auto loss = train::causal_lm_loss_at_labels(output, batch.labels, front) / double(accumulation);
    loss.backward();
    timings.client_compute += since(start);
    return call<ops::Backward>({loss.item<double>()}, {to_wire("grad", output.grad())});
  }

  // Sends a request, returns the reply; a reply {"error": ...} becomes an exception.
  template <class Op>
  typename Op::Reply call(const typename Op::Request& request, std::vector<crypto::Tensor> tensors = {},
                          crypto::Envelope* reply_out = nullptr) {
    const auto start = Clock::now();
    auto reply = rpc::call<Op>(transport, "server enclave", request, std::move(tensors), reply_out);
    timings.round_trip += since(start);
    return reply;
  }

  // The cut-layer activations of a batch, computed without gradients.
  at::Tensor run_front(const at::Tensor& input_ids, const at::Tensor& attention_mask) {
    const auto start = Clock::now();
    torch::NoGradGuard no_grad;
    auto ctx = model::ForwardContext::for_tokens(input_ids, attention_mask);
    auto hidden = front.forward_layers(front.embed(input_ids, ctx), 0, plan.cut_layer, ctx);
    timings.client_compute += since(start);
    return hidden;
  }
};

SplitClient::SplitClient(const std::string& model_dir, const slicing::SlicePlan& plan, rpc::Transport transport)
    : impl_(std::make_unique<Impl>(model_dir, plan, std::move(transport))) {}

SplitClient::~SplitClient() = default;

const SplitTimings& SplitClient::timings() const { return impl_->timings; }

ServerInfo SplitClient::hello() {
  const auto r = impl_->call<ops::Hello>({});
  if (r.plan != slicing::plan_kind_name(impl_->plan.kind))
    throw std::runtime_error(impl_->plan.source + ": kind is \"" + slicing::plan_kind_name(impl_->plan.kind) +
                             "\" but the server enclave serves a \"" + r.plan + "\" plan");
  ServerInfo info{r.cut_layer,        r.hidden_size, r.method,          r.trainable_parameters,
                  r.steps_done,       r.accumulation, r.state_generation};
  const auto& config = impl_->front.config();
  if (info.cut_layer != impl_->plan.cut_layer)
    throw std::runtime_error(impl_->plan.source + ": cut_layer is " + std::to_string(impl_->plan.cut_layer) +
                             " but the server enclave serves layers from " + std::to_string(info.cut_layer));
  if (info.hidden_size != config.hidden_size)
    throw std::runtime_error("the server enclave's model has hidden size " + std::to_string(info.hidden_size) +
                             ", ours " + std::to_string(config.hidden_size) + ": not the same base model");
  return info;
}

train::TrainResult SplitClient::train(const data::Dataset& dataset, const model::Tokenizer& tokenizer,
                                      const train::TrainOptions& options, const data::BatchOptions& batching,
                                      bool resume) {
  const auto info = hello();
  auto& impl = *impl_;
  train::DrivenRun run;
  run.accumulation = info.accumulation;
  run.skip_steps = resume ? info.steps_done : 0;
  run.begin = [&](int total_steps) { impl.call<ops::Begin>({total_steps}); };
  run.micro_step = [&](const data::Batch& batch, train::BatchPosition at) {
    auto hidden = impl.run_front(batch.input_ids, batch.attention_mask);
    const auto r = impl.u_shaped()
                       ? impl.u_shaped_step(batch, hidden, at, info.accumulation)
                       : impl.call<ops::Train>({at.epoch, at.index},
                                               {to_wire("hidden", hidden), to_wire("attention_mask", batch.attention_mask),
                                                to_wire("labels", batch.labels)});
    impl.timings.enclave_compute += r.compute_seconds;
    return train::RemoteMicroStep{r.loss, r.stepped, r.step, r.lr};
  };
  return train::drive_run(train::shuffled_epochs(dataset, tokenizer, batching), options, run);
}

at::Tensor SplitClient::logits(const at::Tensor& input_ids, const at::Tensor& attention_mask) {
  auto mask = attention_mask.defined() ? attention_mask : torch::ones_like(input_ids);
  auto hidden = impl_->run_front(input_ids, mask);
  crypto::Envelope reply;
  impl_->call<ops::Logits>({}, {to_wire("hidden", hidden), to_wire("attention_mask", mask)}, &reply);
  return impl_->to_logits(reply, 3);
}

at::Tensor SplitClient::next_token_logits(const at::Tensor& input_ids, int64_t past) {
  auto& impl = *impl_;
  if (past == 0) impl.cache = {};
  const auto start = Clock::now();
  at::Tensor hidden;
  {
    torch::NoGradGuard no_grad;
    auto ctx = model::ForwardContext::for_tokens(input_ids, {}, &impl.cache, past);
    hidden = impl.front.forward_layers(impl.front.embed(input_ids, ctx), 0, impl.plan.cut_layer, ctx);
  }
  impl.timings.client_compute += since(start);
  crypto::Envelope reply;
  impl.call<ops::Generate>({past}, {to_wire("hidden", hidden)}, &reply);
  return impl.to_logits(reply, 1);
}

}  // namespace sg::split
