// The split-training protocol (docs/DESIGN.md §6) between a client and the server enclave: one envelope per
// request and per reply (crypto/envelope.h) inside an attested AEAD session, each op declared once below
// (rpc/op.h). Any failure is a reply {"error": "..."}: it travels sealed to the client, never in clear to the host.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "rpc/op.h"

namespace sg::split::ops {

// The slice the enclave serves and where its training stands.
struct Hello {
  static constexpr const char* kName = "hello";
  using Request = rpc::Empty;
  struct Reply {
    std::string plan;   // "split" or "u-shaped"
    int cut_layer = 0;
    int hidden_size = 0;
    std::string method;
    int64_t trainable_parameters = 0;
    int steps_done = 0;
    int accumulation = 1;
    uint64_t state_generation = 0;   // of the enclave's sealed state; the client refuses an older one
  };
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Hello::Reply, plan, cut_layer, hidden_size, method, trainable_parameters,
                                   steps_done, accumulation, state_generation)

// Sets the run's length (the learning-rate schedule); a restarted enclave keeps its steps done.
struct Begin {
  static constexpr const char* kName = "begin";
  struct Request {
    int total_steps = 0;
  };
  struct Reply {
    int total_steps = 0;
    int steps_done = 0;
  };
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Begin::Request, total_steps)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Begin::Reply, total_steps, steps_done)

// Where a micro-batch is in the run: seeds its dropout draws the way local training does.
struct BatchAt {
  int epoch = 0;
  std::size_t index = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(BatchAt, epoch, index)

// What a micro-step did. A NaN loss travels as null (JSON has no NaN) and comes back as NaN.
struct StepReply {
  double loss = 0;
  bool stepped = false;
  int step = 0;
  double lr = 0;
  double compute_seconds = 0;
};
inline void to_json(nlohmann::json& j, const StepReply& r) {
  j = {{"loss", r.loss}, {"stepped", r.stepped}, {"step", r.step}, {"lr", r.lr}, {"compute_seconds", r.compute_seconds}};
}
inline void from_json(const nlohmann::json& j, StepReply& r) {
  r.loss = j.at("loss").is_null() ? std::numeric_limits<double>::quiet_NaN() : j.at("loss").get<double>();
  j.at("stepped").get_to(r.stepped);
  j.at("step").get_to(r.step);
  j.at("lr").get_to(r.lr);
  r.compute_seconds = j.value("compute_seconds", 0.0);
}

// Split plans: one micro-step of the slice and its head.
// Tensors: hidden F32 (B,T,D), attention_mask I64 (B,T), labels I64 (B,T).
struct Train {
  static constexpr const char* kName = "train";
  using Request = BatchAt;
  using Reply = StepReply;
};

// U-shaped plans, first half of a micro-step: the slice's output for the client's head (labels never leave it).
// Tensors: hidden, attention_mask in; output F32 (B,T,D) back.
struct Forward {
  static constexpr const char* kName = "forward";
  using Request = BatchAt;
  struct Reply {
    double compute_seconds = 0;
  };
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Forward::Reply, compute_seconds)

// U-shaped plans, second half: the gradient at the enclave's output finishes the micro-step.
// Tensors: grad F32 (B,T,D), d loss / d output.
struct Backward {
  static constexpr const char* kName = "backward";
  struct Request {
    double loss = 0;
  };
  using Reply = StepReply;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Backward::Request, loss)

// Evaluation. Tensors: hidden, attention_mask in; logits F32 (B,T,V) back (u-shaped: output (B,T,D)).
struct Logits {
  static constexpr const char* kName = "logits";
  using Request = rpc::Empty;
  using Reply = rpc::Empty;
};

// Generation with a KV cache the enclave keeps per session: past 0 starts a new sequence.
// Tensors: hidden F32 (1,T,D) of the new tokens in; the next token's logits F32 (V) back (u-shaped: output (D)).
struct Generate {
  static constexpr const char* kName = "generate";
  struct Request {
    int64_t past = 0;
  };
  using Reply = rpc::Empty;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Generate::Request, past)

}  // namespace sg::split::ops
