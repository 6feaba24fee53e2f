#include "split/wire.h"

#include <torch/torch.h>

#include <cstring>
#include <stdexcept>

#include "tee/envelope_service.h"
#include "tensor/torch_bridge.h"

namespace sg::split {

crypto::Tensor to_wire(const std::string& name, const at::Tensor& tensor) {
  auto t = tensor.detach().to(torch::kCPU).contiguous();
  crypto::Tensor out;
  out.meta.name = name;
  out.meta.dtype = std::string(tensor::dtype_name(tensor::dtype_of(t)));
  out.meta.shape.assign(t.sizes().begin(), t.sizes().end());
  const auto* bytes = static_cast<const uint8_t*>(t.data_ptr());
  out.data.assign(bytes, bytes + t.nbytes());
  return out;
}

at::Tensor from_wire(const crypto::Envelope& envelope, const std::string& name, c10::ScalarType dtype, int64_t dims) {
  const crypto::Tensor* t = envelope.find(name);
  if (!t) throw std::invalid_argument("message has no tensor '" + name + "'");
  const auto expected = std::string(tensor::dtype_name(tensor::dtype_of(torch::empty({0}, dtype))));
  if (t->meta.dtype != expected)
    throw std::invalid_argument("tensor '" + name + "' has dtype " + t->meta.dtype + ", expected " + expected);
  if (int64_t(t->meta.shape.size()) != dims)
    throw std::invalid_argument("tensor '" + name + "' has " + std::to_string(t->meta.shape.size()) +
                                " dimensions, expected " + std::to_string(dims));
  // The receiver already checked that the bytes match the shape and dtype.
  auto out = torch::empty(t->meta.shape, dtype);
  std::memcpy(out.data_ptr(), t->data.data(), t->data.size());
  return out;
}

nlohmann::json call_enclave(const Transport& transport, const std::string& peer, const nlohmann::json& control,
                            std::vector<crypto::Tensor> tensors, crypto::Envelope* reply_out) {
  auto reply = transport({control.dump(), std::move(tensors)});
  auto parsed = nlohmann::json::parse(reply.control, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) throw std::runtime_error(peer + " sent a malformed reply");
  if (parsed.contains("error"))
    throw std::runtime_error(peer + " refused '" + control.value("op", "") + "': " + parsed["error"].get<std::string>());
  if (reply_out) *reply_out = std::move(reply);
  return parsed;
}

crypto::Envelope json_reply(const nlohmann::json& control, std::vector<crypto::Tensor> tensors) {
  return {control.dump(), std::move(tensors)};
}

namespace {

crypto::Envelope padded(crypto::Envelope reply) {
  const std::size_t size = reply.control.size();
  reply.control.resize((size / kReplyControlQuantum + 1) * kReplyControlQuantum, ' ');
  return reply;
}

}  // namespace

void serve_json_requests(tee::EnclaveRuntime& runtime, JsonHandler handle, tee::EnvelopeLimits limits) {
  tee::serve_envelopes(runtime, [handle = std::move(handle)](const tee::Caller& caller,
                                                             crypto::Envelope request) -> tee::Result<crypto::Envelope> {
    try {
      const auto control = nlohmann::json::parse(request.control, nullptr, /*allow_exceptions=*/false);
      if (!control.is_object() || !control.contains("op") || !control["op"].is_string())
        throw std::invalid_argument("request control is not a JSON object with a string 'op'");
      return padded(handle(caller, control["op"].get<std::string>(), control, request));
    } catch (const std::exception& e) {
      return padded(json_reply({{"error", e.what()}}));
    }
  }, limits);
}

}  // namespace sg::split
