#include "federated/remote_adapter.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <stdexcept>

#include "federated/client_protocol.h"
#include "model/generation.h"
#include "model/transformer.h"
#include "rpc/tensor_wire.h"

namespace sg::federated {
namespace {

using nlohmann::json;
using rpc::from_wire;
using rpc::to_wire;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Modules of one layer that read the same input.
int input_kind(model::Role role) {
  switch (role) {
    case model::Role::Q: case model::Role::K: case model::Role::V: case model::Role::Qkv: return 0;
    case model::Role::O: return 1;
    case model::Role::Gate: case model::Role::Up: return 2;
    case model::Role::Down: return 3;
  }
  return 4;
}

// The link to the enclave shared by every remote adapter of one model.
struct Link {
  Transport transport;
  int64_t next_call = 0;
  at::Tensor anchor = torch::zeros({}, torch::requires_grad());   // keeps every call in the autograd graph

  template <class Op>
  typename Op::Reply call(const typename Op::Request& request, std::vector<crypto::Tensor> tensors = {},
                          crypto::Envelope* reply_out = nullptr) {
    return rpc::call<Op>(transport, "client enclave", request, std::move(tensors), reply_out);
  }
};

// The modules sharing one input, and the latest call's outputs for the modules that have not read theirs yet.
struct Group {
  Link* link = nullptr;
  std::vector<std::string> modules;
  const c10::TensorImpl* input = nullptr;
  variable_list outputs;
  std::size_t unread = 0;
};

// One round trip each way for a group: forward sends x and returns each module's contribution; backward sends
// x again with each contribution's gradient and returns x's (the enclave recomputes rather than keep every
// layer's input; the host keeps x anyway, for the frozen modules' backward).
struct RemoteCall : torch::autograd::Function<RemoteCall> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& anchor, Group* group,
                               bool training) {
    const int64_t id = group->link->next_call++;
    crypto::Envelope reply;
    group->link->call<ops::Forward>({id, group->modules, training}, {to_wire("x", x)}, &reply);
    variable_list out;
    for (const auto& name : group->modules) out.push_back(from_wire(reply, name, torch::kFloat32, x.dim()));
    ctx->save_for_backward({x});
    ctx->saved_data["call"] = id;
    ctx->saved_data["group"] = int64_t(reinterpret_cast<intptr_t>(group));
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto* group = reinterpret_cast<Group*>(intptr_t(ctx->saved_data["group"].toInt()));
    std::vector<crypto::Tensor> wire{to_wire("x", ctx->get_saved_variables()[0])};
    for (std::size_t i = 0; i < grads.size(); ++i)
      if (grads[i].defined()) wire.push_back(to_wire(group->modules[i], grads[i]));
    crypto::Envelope reply;
    group->link->call<ops::Backward>({ctx->saved_data["call"].toInt(), group->modules}, std::move(wire), &reply);
    const crypto::Tensor* dx = reply.find("dx");
    if (!dx) throw std::runtime_error("client enclave's backward reply has no 'dx'");
    return {from_wire(reply, "dx", torch::kFloat32, int64_t(dx->meta.shape.size())), at::Tensor(), at::Tensor(),
            at::Tensor()};
  }
};

class RemoteLinear final : public model::LinearAdapter {
 public:
  RemoteLinear(std::shared_ptr<Group> group, std::size_t index) : group_(std::move(group)), index_(index) {}

  at::Tensor apply(const at::Tensor& x, const at::Tensor& frozen_output) const override {
    Group& g = *group_;
    if (g.unread == 0 || g.input != x.unsafeGetTensorImpl()) {   // the group's first module on this input
      if (x.scalar_type() != torch::kFloat32) throw std::invalid_argument("federated LoRA runs in float32");
      g.outputs = RemoteCall::apply(x, g.link->anchor, &g, torch::GradMode::is_enabled());
      g.input = x.unsafeGetTensorImpl();
      g.unread = g.modules.size();
    }
    --g.unread;
    return frozen_output + g.outputs[index_];
  }

  at::Tensor merged(const at::Tensor&) const override {
    throw std::logic_error("a remote adapter's weights stay in the enclave: nothing to merge on the host");
  }

 private:
  std::shared_ptr<Group> group_;
  std::size_t index_;
};

// P-tuning's prefix: one round trip each way per layer. Forward sends the layer's queries and gets the prefix part
// of its attention with the log-sum-exp; backward sends the queries again with that part's gradients and gets dq
// (the enclave recomputes the part rather than keep every layer's activations).
struct RemotePrefixCall : torch::autograd::Function<RemotePrefixCall> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& q, const at::Tensor& anchor, Link* link,
                               int64_t layer) {
    crypto::Envelope reply;
    link->call<ops::PrefixForward>({int(layer)}, {to_wire("q", q)}, &reply);
    ctx->save_for_backward({q});
    ctx->saved_data["link"] = int64_t(reinterpret_cast<intptr_t>(link));
    ctx->saved_data["layer"] = layer;
    return {from_wire(reply, "out", torch::kFloat32, 4), from_wire(reply, "lse", torch::kFloat32, 3)};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto* link = reinterpret_cast<Link*>(intptr_t(ctx->saved_data["link"].toInt()));
    const auto q = ctx->get_saved_variables()[0];
    auto defined_or_zero = [](const at::Tensor& g, at::IntArrayRef shape) {
      return g.defined() ? g : torch::zeros(shape, torch::kFloat32);
    };
    const auto lse_shape = q.sizes().slice(0, 3);
    crypto::Envelope reply;
    link->call<ops::PrefixBackward>({int(ctx->saved_data["layer"].toInt())},
               {to_wire("q", q), to_wire("d_out", defined_or_zero(grads[0], q.sizes())),
                to_wire("d_lse", defined_or_zero(grads[1], lse_shape))},
               &reply);
    if (!reply.find("dq")) throw std::runtime_error("client enclave's prefix backward reply has no 'dq'");
    return {from_wire(reply, "dq", torch::kFloat32, 4), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

class RemotePrefix final : public model::ExternalAttention {
 public:
  explicit RemotePrefix(Link* link) : link_(link) {}
  model::PartialAttention attend(int layer, const at::Tensor& q) const override {
    if (q.scalar_type() != torch::kFloat32) throw std::invalid_argument("federated P-tuning runs in float32");
    auto parts = RemotePrefixCall::apply(q, link_->anchor, link_, int64_t(layer));
    return {parts[0], parts[1]};
  }

 private:
  Link* link_;
};

}  // namespace

struct RemoteAdapter::Impl {
  Link link;
  std::vector<std::string> adapted;
  int64_t trainable_parameters = 0;
  int accumulation = 1;
  int64_t virtual_tokens = 0;            // the prefix's length; 0 for LoRA
  std::unique_ptr<RemotePrefix> prefix;  // set when the enclave holds a prefix
};

RemoteAdapter::RemoteAdapter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RemoteAdapter::~RemoteAdapter() = default;

std::unique_ptr<RemoteAdapter> RemoteAdapter::attach(model::Transformer& model, Transport transport) {
  auto impl = std::make_unique<Impl>();
  impl->link.transport = std::move(transport);
  ops::Init::Request init;
  const auto linear = model.linear_modules();
  for (const auto& m : linear)
    init.modules.push_back({m.name, m.layer, m.linear->weight.size(1), m.linear->weight.size(0)});
  const auto& c = model.config();
  init.model = {c.num_layers, c.num_kv_heads, c.head_dim, c.hidden_size};
  const auto r = impl->link.call<ops::Init>(init);
  impl->adapted = r.adapted;
  impl->trainable_parameters = r.trainable_parameters;
  impl->accumulation = r.accumulation;
  if (r.method == "ptuning") {
    impl->virtual_tokens = r.num_virtual_tokens;
    impl->prefix = std::make_unique<RemotePrefix>(&impl->link);
  }

  std::map<std::pair<int, int>, std::shared_ptr<Group>> groups;
  for (const auto& m : linear) {
    if (std::find(impl->adapted.begin(), impl->adapted.end(), m.name) == impl->adapted.end()) continue;
    auto& group = groups[{m.layer, input_kind(m.role)}];
    if (!group) {
      group = std::make_shared<Group>();
      group->link = &impl->link;
    }
    group->modules.push_back(m.name);
    model.set_adapter(m.name, std::make_shared<RemoteLinear>(group, group->modules.size() - 1));
  }
  return std::unique_ptr<RemoteAdapter>(new RemoteAdapter(std::move(impl)));
}

const std::vector<std::string>& RemoteAdapter::adapted_modules() const { return impl_->adapted; }
int64_t RemoteAdapter::trainable_parameters() const { return impl_->trainable_parameters; }
int RemoteAdapter::accumulation() const { return impl_->accumulation; }
const Transport& RemoteAdapter::transport() const { return impl_->link.transport; }
int64_t RemoteAdapter::virtual_tokens() const { return impl_->virtual_tokens; }

void RemoteAdapter::extend(model::ForwardContext& ctx) const {
  if (!impl_->prefix) return;
  ctx.positions = ctx.positions + impl_->virtual_tokens;   // PEFT numbers the tokens after the prefix
  ctx.external = impl_->prefix.get();
}

model::ForwardContext RemoteAdapter::context(const at::Tensor& tokens, const at::Tensor& attention_mask) const {
  auto ctx = impl_->prefix ? model::ForwardContext::for_tokens(tokens, {}, nullptr, 0)   // peft::Prefix::context's
                           : model::ForwardContext::for_tokens(tokens, attention_mask);
  ctx.attention_mask = attention_mask;
  extend(ctx);
  return ctx;
}

at::Tensor RemoteAdapter::logits(const model::Transformer& model, const at::Tensor& tokens,
                                 const at::Tensor& attention_mask) const {
  auto ctx = context(tokens, attention_mask);
  return model.forward(tokens, ctx);
}

std::vector<int32_t> RemoteAdapter::generate(const model::Transformer& model, const std::vector<int32_t>& prompt,
                                             const model::SamplingOptions& options) const {
  model::KvCache cache;   // the host's own tokens; the prefix stays in the enclave
  auto next_logits = [&](const at::Tensor& input, int64_t past) {
    auto ctx = model::ForwardContext::for_tokens(input, {}, &cache, past);
    extend(ctx);
    return model.forward(input, ctx)[0][-1];
  };
  return model::generate(next_logits, prompt, options);
}

}  // namespace sg::federated
