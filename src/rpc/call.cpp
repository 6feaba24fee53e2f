#include "rpc/call.h"

#include <stdexcept>

namespace sg::rpc {

nlohmann::json call(const Transport& transport, const std::string& peer, const nlohmann::json& control,
                    std::vector<crypto::Tensor> tensors, crypto::Envelope* reply_out) {
  auto reply = transport({control.dump(), std::move(tensors)});
  auto parsed = nlohmann::json::parse(reply.control, nullptr, /*allow_exceptions=*/false);
  if (!parsed.is_object()) throw std::runtime_error(peer + " sent a malformed reply");
  if (parsed.contains("error"))
    throw std::runtime_error(peer + " refused '" + control.value("op", "") + "': " + parsed["error"].get<std::string>());
  if (reply_out) *reply_out = std::move(reply);
  return parsed;
}

}  // namespace sg::rpc
