// Method 1's host side: LoRA on a frozen model whose adapter lives in the client's enclave. Every adapted module
// of the model gets an adapter that forwards its input to the enclave and adds the contribution that comes back;
// modules that share an input (q/k/v, gate/up) share one round trip. A LibTorch autograd function carries the
// backward pass across: the host sends the gradient of each contribution and receives the input gradient; the
// enclave accumulates the adapter's own gradients and steps its optimiser. The host never holds A or B.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "crypto/envelope.h"
#include "split/wire.h"

namespace sg::model {
class Transformer;
}

namespace sg::federated {

using split::Transport;

class RemoteLora {
 public:
  // Reports the model's linear modules to the enclave (which creates its LoRA pairs) and attaches the remote
  // adapters to the modules it adapted. This object must outlive every use of `model` with those adapters.
  static std::unique_ptr<RemoteLora> attach(model::Transformer& model, Transport transport);
  ~RemoteLora();

  const std::vector<std::string>& adapted_modules() const;
  int64_t trainable_parameters() const;   // held in the enclave
  int accumulation() const;               // micro-batches per optimiser step (the enclave's job)
  // Sends a request and returns its reply's control; an {"error"} reply becomes std::runtime_error.
  std::string call(const std::string& control);
  // The session with the client enclave, for requests that carry tensors (federation.h).
  const Transport& transport() const;

 private:
  struct Impl;
  explicit RemoteLora(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sg::federated
