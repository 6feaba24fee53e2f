// The federated client's host side: a frozen model whose adapter lives in the client's enclave — LoRA or P-tuning v2's prefix,
// as the enclave's job says.
//  - LoRA: every adapted module gets an adapter that forwards its input to the enclave and adds the contribution
//    that comes back; modules that share an input (q/k/v, gate/up) share one round trip.
//  - Prefix: every layer's attention also covers the prefix keys, which stay in the enclave: the host sends the
//    layer's queries and merges the part that comes back by its log-sum-exp (model::ExternalAttention).
// LibTorch autograd functions carry the backward pass across: the host sends gradients of what came back and
// receives its inputs' gradients; the enclave accumulates the adapter's own and steps its optimiser. The host
// never holds A, B or the prefix.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crypto/envelope.h"
#include "model/generation.h"
#include "model/transformer.h"
#include "rpc/call.h"

namespace sg::federated {

using rpc::Transport;

class RemoteAdapter {
 public:
  // Reports the model's linear modules and shape to the enclave (which creates its LoRA pairs or its prefix) and
  // attaches the remote adapters to the modules it adapted. This object must outlive every use of `model` with
  // those adapters and of the contexts it makes.
  static std::unique_ptr<RemoteAdapter> attach(model::Transformer& model, Transport transport);
  ~RemoteAdapter();

  const std::vector<std::string>& adapted_modules() const;   // empty with a prefix
  int64_t virtual_tokens() const;                           // the prefix's length; 0 for LoRA
  int64_t trainable_parameters() const;   // held in the enclave
  int accumulation() const;               // micro-batches per optimiser step (the enclave's job)
  // The session with the client enclave (rpc::call; client_protocol.h).
  const Transport& transport() const;

  // The context of a forward pass over tokens (B,T): with a prefix, positions start after it (as
  // peft::Prefix::context numbers them) and every layer also attends over it.
  model::ForwardContext context(const at::Tensor& tokens, const at::Tensor& attention_mask) const;
  at::Tensor logits(const model::Transformer& model, const at::Tensor& tokens, const at::Tensor& attention_mask) const;
  // Generation through the remote adapter; the host's KV cache holds only its own tokens.
  std::vector<int32_t> generate(const model::Transformer& model, const std::vector<int32_t>& prompt,
                                const model::SamplingOptions& options) const;

 private:
  void extend(model::ForwardContext& ctx) const;   // adds the prefix, if any, to a context
  struct Impl;
  explicit RemoteAdapter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::federated
