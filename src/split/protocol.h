// The split-training protocol (DESIGN §6) between a client and the server enclave, one envelope per request
// and per reply (crypto/envelope.h), inside an attested OTP session. Control texts are JSON:
//
//   request                                    tensors                                  reply
//   {"op":"hello"}                             -                                        {"plan","cut_layer","hidden_size","method",
//                                                                                        "trainable_parameters","steps_done",
//                                                                                        "accumulation","state_generation"}
//   {"op":"begin","total_steps":N}             -                                        {"total_steps","steps_done"}
//   {"op":"train","epoch":e,"index":i}         hidden F32 (B,T,D), attention_mask I64   {"loss","stepped","step","lr",
//                                                                                        "compute_seconds"}
//                                              (B,T), labels I64 (B,T)
//   {"op":"forward","epoch":e,"index":i}       hidden, attention_mask                   {} + output F32 (B,T,D)
//   {"op":"backward","loss":x}                 grad F32 (B,T,D): d loss / d output      {"loss","stepped","step","lr",...}
//     u-shaped plans: the enclave has no head; the client computes head, loss (labels never leave it) and the
//     gradient at the enclave's output, which finishes the micro-step in the enclave.
//   {"op":"logits"}                            hidden, attention_mask                   {} + logits F32 (B,T,V)
//                                                                                       (u-shaped: output (B,T,D))
//   {"op":"generate","past":p}                 hidden F32 (1,T,D) of the new tokens     {} + logits F32 (V): the next
//                                              (past 0 starts a new sequence; the        token's; the enclave keeps this
//                                              session's KV cache grows with each call)  session's KV cache of its layers
//                                                                                       (u-shaped: output F32 (D))
//
// Any failure is a reply {"error": "..."}: the message travels sealed to the client, never in clear to the host.
#pragma once

namespace sg::split::op {
inline constexpr const char* kHello = "hello";
inline constexpr const char* kBegin = "begin";
inline constexpr const char* kTrain = "train";
inline constexpr const char* kLogits = "logits";
inline constexpr const char* kGenerate = "generate";
inline constexpr const char* kForward = "forward";
inline constexpr const char* kBackward = "backward";
}  // namespace sg::split::op
