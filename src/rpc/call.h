// The client side of the enclave request convention: one request envelope (a JSON control with "op", plus
// tensors) in, one reply envelope out, over any transport (net::RemoteEnclave::call, tee::LocalSession::call).
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "crypto/envelope.h"
#include "rpc/op.h"

namespace sg::rpc {

// Delivers one request envelope to an enclave and returns its reply.
using Transport = std::function<crypto::Envelope(const crypto::Envelope&)>;

// Sends `control` (+ tensors) and returns the reply's control; a malformed reply or an {"error": ...} reply
// throws std::runtime_error naming `peer` and the op. The whole reply goes to `reply_out` when given.
nlohmann::json call(const Transport& transport, const std::string& peer, const nlohmann::json& control,
                    std::vector<crypto::Tensor> tensors, crypto::Envelope* reply_out = nullptr);

// The control of Op's request: its fields and "op".
template <class Op>
nlohmann::json control_of(const typename Op::Request& request) {
  nlohmann::json control = request;
  control["op"] = Op::kName;
  return control;
}

// The typed call: Op's request out, Op's reply back.
template <class Op>
typename Op::Reply call(const Transport& transport, const std::string& peer, const typename Op::Request& request,
                        std::vector<crypto::Tensor> tensors = {}, crypto::Envelope* reply_out = nullptr) {
  const auto reply = call(transport, peer, control_of<Op>(request), std::move(tensors), reply_out);
  try {
    return parse_as<typename Op::Reply>(reply, std::string("'") + Op::kName + "' reply");
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(peer + " sent a " + e.what());
  }
}

}  // namespace sg::rpc
