// LibTorch tensors as envelope tensors (crypto/tensor_payload.h): name, safetensors dtype, shape, raw bytes;
// and one JSON request/reply over an envelope transport, as the split and federated clients make them and their
// enclaves serve them.
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "crypto/envelope.h"

#include "tee/envelope_service.h"

namespace sg::split {

crypto::Tensor to_wire(const std::string& name, const at::Tensor& tensor);
// The envelope's tensor `name` as a LibTorch tensor of `dtype` with `dims` dimensions; throws
// std::invalid_argument naming the tensor when it is missing or of another dtype or rank.
at::Tensor from_wire(const crypto::Envelope& envelope, const std::string& name, c10::ScalarType dtype, int64_t dims);

// Delivers one request envelope to an enclave and returns its reply (net::RemoteEnclave::call,
// tee::LocalSession::call).
using Transport = std::function<crypto::Envelope(const crypto::Envelope&)>;

// Sends `control` (+ tensors) and returns the reply's control; a malformed reply or an {"error": ...} reply
// throws std::runtime_error naming `peer` and the op. The whole reply goes to `reply_out` when given.
nlohmann::json call_enclave(const Transport& transport, const std::string& peer, const nlohmann::json& control,
                            std::vector<crypto::Tensor> tensors, crypto::Envelope* reply_out = nullptr);

// The enclave side of the convention: a request's control is a JSON object with a string "op"; a reply is a
// control object plus tensors. serve_json_requests installs `handle` for every session on `runtime`; anything it
// throws (and a malformed control) becomes the sealed reply {"error": message}, which call_enclave turns back
// into an exception for the peer.
// Every reply's control is padded with spaces to a multiple of kReplyControlQuantum bytes, so replies of one op
// and shape have one length whatever their numbers say (a NaN loss, "stepped": false, an error text that fits).
inline constexpr std::size_t kReplyControlQuantum = 512;
using JsonHandler = std::function<crypto::Envelope(const tee::Caller& caller, const std::string& op,
                                                   const nlohmann::json& control, const crypto::Envelope& request)>;
void serve_json_requests(tee::EnclaveRuntime& runtime, JsonHandler handle, tee::EnvelopeLimits limits = {});
crypto::Envelope json_reply(const nlohmann::json& control, std::vector<crypto::Tensor> tensors = {});

}  // namespace sg::split
