// Method 1, client side (DESIGN §7 step 2): the host runs the frozen base; its enclave holds the LoRA pairs and
// their optimiser. One envelope per request and reply (crypto/envelope.h) over the host<->enclave OTP session:
//
//   request                                            tensors                      reply
//   {"op":"init","modules":[{name,layer,in,out}...]}   -                            {"adapted":[names],"trainable_parameters",
//                                                                                 "accumulation"}
//   {"op":"begin","total_steps":N}                     -                            {"total_steps"}
//   {"op":"micro","epoch":e,"index":i}                 -                            {}   (seeds the batch's dropout draws)
//   {"op":"forward","call":c,"modules":[names],        x F32 (..., in): the modules' one tensor per module: its
//    "train":bool}                                     shared input                 contribution scaling * B A x
//   {"op":"backward","call":c}                         one gradient per module      dx F32: d loss / d x through the
//                                                      (d loss / d contribution)    adapters
//   {"op":"step","loss":x}                             -                            {"stepped","step","lr"}
//
// Modules that share an input (q/k/v; gate/up) travel in one call: one round trip per group and direction.
// Failures are sealed replies {"error": ...}. The adapter tensors themselves never leave the enclave.
#pragma once

namespace sg::federated::op {
inline constexpr const char* kInit = "init";
inline constexpr const char* kBegin = "begin";
inline constexpr const char* kMicro = "micro";
inline constexpr const char* kForward = "forward";
inline constexpr const char* kBackward = "backward";
inline constexpr const char* kStep = "step";
}  // namespace sg::federated::op
