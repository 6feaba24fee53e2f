// Federated, client side (docs/DESIGN.md §7 step 2): the host runs the frozen base; its enclave holds the
// adapter (LoRA pairs, or P-tuning v2's prefix) and its optimiser. One envelope per request and reply over the
// host<->enclave AEAD session, each op declared once (rpc/op.h). Failures are sealed replies {"error": ...}.
// In backward the enclave recomputes what it needs from the inputs sent again (redrawing a call's dropout masks
// from the generator state it kept), so between calls it holds no activations, only the adapter and AdamW.
// Modules that share an input (q/k/v; gate/up) travel in one call: one round trip per group and direction.
// The adapter tensors themselves never leave the enclave, except sealed for the server enclave.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "peft/lora.h"
#include "peft/prefix.h"
#include "rpc/op.h"

namespace sg::peft {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ModuleShape, name, layer, in, out)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PrefixShape, layers, kv_heads, head_dim, hidden_size)
}  // namespace sg::peft

namespace sg::federated::ops {

// Creates the adapter the job names: LoRA on the listed modules (as peft::Lora::attach would), or the prefix
// for the model's shape (job method "ptuning").
struct Init {
  static constexpr const char* kName = "init";
  struct Request {
    std::vector<peft::ModuleShape> modules;
    peft::PrefixShape model;
  };
  struct Reply {
    std::string method;   // "lora" or "ptuning"
    std::vector<std::string> adapted;
    int64_t trainable_parameters = 0;
    int accumulation = 1;
    int64_t num_virtual_tokens = 0;   // ptuning
  };
};
// The host sends both; the enclave needs `modules` for LoRA and `model` for a prefix, and refuses an init
// without the one its job's method needs (client_adapter.cpp).
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Init::Request, modules, model)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(Init::Reply, method, adapted, trainable_parameters, accumulation,
                                                num_virtual_tokens)

// The run's length (the learning-rate schedule); a restarted enclave restores its sealed optimiser here.
struct Begin {
  static constexpr const char* kName = "begin";
  struct Request {
    int total_steps = 0;
  };
  using Reply = Request;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Begin::Request, total_steps)

// Seeds the micro-batch's dropout draws (as local training does).
struct Micro {
  static constexpr const char* kName = "micro";
  struct Request {
    int epoch = 0;
    std::size_t index = 0;
  };
  using Reply = rpc::Empty;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Micro::Request, epoch, index)

// LoRA: the modules' contributions scaling·B·A·x for their shared input x (tensor "x", F32 (..., in)); one
// tensor per module back, named by it.
struct Forward {
  static constexpr const char* kName = "forward";
  struct Request {
    int64_t call = 0;
    std::vector<std::string> modules;
    bool train = false;
  };
  using Reply = rpc::Empty;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Forward::Request, call, modules, train)

// LoRA: x again and one gradient per module (d loss / d contribution) in; "dx" back, d loss / d x through the
// adapters. The adapters' own gradients accumulate in the enclave.
struct Backward {
  static constexpr const char* kName = "backward";
  struct Request {
    int64_t call = 0;
    std::vector<std::string> modules;
  };
  using Reply = rpc::Empty;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Backward::Request, call, modules)

// The optimiser step at the end of a micro-step (every `accumulation` micro-steps it steps).
struct Step {
  static constexpr const char* kName = "step";
  struct Request {
    double loss = 0;
  };
  struct Reply {
    bool stepped = false;
    int step = 0;
    double lr = 0;
  };
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Step::Request, loss)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Step::Reply, stepped, step, lr)

// P-tuning v2: layer `layer`'s queries after RoPE ("q", F32 (B,H,T,E)) in; the attention over the prefix keys
// ("out", (B,H,T,E)) and its log-sum-exp ("lse", (B,H,T)) back.
struct PrefixForward {
  static constexpr const char* kName = "prefix_forward";
  struct Request {
    int layer = 0;
  };
  using Reply = rpc::Empty;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(PrefixForward::Request, layer)

// P-tuning v2: q, d_out, d_lse in; "dq" back; the prefix's own gradient accumulates in the enclave.
struct PrefixBackward {
  static constexpr const char* kName = "prefix_backward";
  using Request = PrefixForward::Request;
  using Reply = rpc::Empty;
};

// Federation, step 1: a fresh nonce for the server enclave's evidence.
struct ServerHello {
  static constexpr const char* kName = "server_hello";
  using Request = rpc::Empty;
  struct Reply {
    std::string nonce;   // hex
  };
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ServerHello::Reply, nonce)

// Step 2: the server enclave's evidence over that nonce and its key, verified against the job's server policy.
// Back: this enclave's session key, and its own evidence (peer_attestation.h) for the server enclave; the host
// opens the session with them.
struct ServerConnect {
  static constexpr const char* kName = "server_connect";
  struct Request {
    std::string evidence;      // hex
    std::string enclave_key;   // hex, 32 bytes
  };
  struct Reply {
    std::string client_key;    // hex
    std::string attestation;
  };
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ServerConnect::Request, evidence, enclave_key)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ServerConnect::Reply, client_key, attestation)

// A request of server_protocol.h sealed for the server enclave: frame tensors "frame.0", ... back. A submit
// carries the adapter (or the masked update); a join, a fresh signed mask key.
struct ToServer {
  static constexpr const char* kName = "to_server";
  struct Request {
    nlohmann::json request;
  };
  using Reply = rpc::Empty;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ToServer::Request, request)

// The server enclave's sealed reply (frame tensors) in; its control back, with its "error" renamed
// "server_error". A reply that carries the global adapter installs it; a fixed participant set is checked
// and kept, and only "fixed" reaches the host.
struct FromServer {
  static constexpr const char* kName = "from_server";
  using Request = rpc::Empty;
};

}  // namespace sg::federated::ops
