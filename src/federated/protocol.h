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
//   {"op":"backward","call":c}                         x again, and one gradient    dx F32: d loss / d x through the
//                                                      per module (d loss / d       adapters
//                                                      contribution)
//   {"op":"step","loss":x}                             -                            {"stepped","step","lr"}
//
// With the job's method "ptuning" the enclave holds P-tuning v2's prefix instead (init then takes
// "model":{layers,kv_heads,head_dim,hidden_size} and answers "num_virtual_tokens"):
//   {"op":"prefix_forward","layer":l}                  q F32 (B,H,T,E): the layer's  out (B,H,T,E), lse (B,H,T): the
//                                                      queries after RoPE           attention over the prefix keys
//   {"op":"prefix_backward","layer":l}                 q, d_out, d_lse              dq (B,H,T,E); the enclave adds
//                                                                                   the prefix's own gradient
// In backward the enclave recomputes what it needs from the inputs sent again (redrawing a call's dropout masks
// from the generator state it kept), so between calls it holds no activations, only the adapter and AdamW.
// Modules that share an input (q/k/v; gate/up) travel in one call: one round trip per group and direction.
// Failures are sealed replies {"error": ...}. The adapter tensors themselves never leave the enclave.
//
// Federation (DESIGN §7 steps 1 and 3). The client enclave is the end point of its own OTP session with the
// server enclave; its host only relays that session's sealed frames:
//
//   host -> client enclave                              reply
//   {"op":"server_hello"}                               {"nonce": hex}   (for the server's evidence)
//   {"op":"server_connect","evidence":hex,              {"client_key": hex}   after verifying the evidence
//    "enclave_key":hex}                                 against the job's server policy; the host opens the
//                                                       session with this key
//   {"op":"to_server","request":{...}}                  frame tensors "frame.0".. sealed for the server: the
//                                                       request; "submit" requests carry the adapter
//   {"op":"from_server"} + frame tensors                the server's reply control (its "error" renamed
//                                                       "server_error"); a reply that carries the global
//                                                       adapter installs it
//
//   client enclave -> server enclave (aggregator_service.h)     reply
//   {"op":"submit","round":r,"samples":n} + the adapter          {"accepted":true,"round":r,"samples":n}, or
//     (the client enclave writes n: the examples it trained on)  {"accepted":false,"late":true} once r closed;
//                                                                a second submission of one client (identity)
//                                                                in a round is {"already_counted":true}
//   {"op":"fetch","round":r}                                     {"closed":true,"round":r,"contributors":k}
//                                                                + the global adapter (none when the round
//                                                                closed without an aggregate), or {"closed":false}
//   {"op":"status"}  (registers the client for sampling)         {"open_round","rounds","finished",
//                                                                 "secure_aggregation"}
//   {"op":"selected","round":r}                                  {"decided":bool,"selected":bool}: whether this
//                                                                client trains in round r (client_sampler.h)
// With secure aggregation (masked_rounds.h) a round's submission is three steps instead of "submit":
//   {"op":"join","round":r,"announcement":{identity,mask_key,   {"joined":bool}
//     signature}}  (the client enclave adds a fresh key, signed)
//   {"op":"peers","round":r}                                     {"fixed":true,"participants":[announcement...]}
//                                                                or {"fixed":false}; the client enclave checks
//                                                                the set and keeps the keys
//   {"op":"submit","round":r,"samples":n,"masked":true}          {"accepted":true,"samples":n}; the client
//    + "layout" and the tensor "masked" (I32 words)              enclave adds its masked fixed-point update,
//                                                                once per round
#pragma once

namespace sg::federated::op {
inline constexpr const char* kInit = "init";
inline constexpr const char* kBegin = "begin";
inline constexpr const char* kMicro = "micro";
inline constexpr const char* kForward = "forward";
inline constexpr const char* kBackward = "backward";
inline constexpr const char* kStep = "step";
inline constexpr const char* kPrefixForward = "prefix_forward";
inline constexpr const char* kPrefixBackward = "prefix_backward";
inline constexpr const char* kServerHello = "server_hello";
inline constexpr const char* kServerConnect = "server_connect";
inline constexpr const char* kToServer = "to_server";
inline constexpr const char* kFromServer = "from_server";
inline constexpr const char* kSubmit = "submit";
inline constexpr const char* kFetch = "fetch";
inline constexpr const char* kStatus = "status";
inline constexpr const char* kJoin = "join";
inline constexpr const char* kPeers = "peers";
inline constexpr const char* kSelected = "selected";
}  // namespace sg::federated::op
