#include "rpc/serve.h"

#include <stdexcept>

namespace sg::rpc {
namespace {

crypto::Envelope padded(crypto::Envelope reply) {
  const std::size_t size = reply.control.size();
  reply.control.resize((size / kReplyControlQuantum + 1) * kReplyControlQuantum, ' ');
  return reply;
}

}  // namespace

crypto::Envelope reply(const nlohmann::json& control, std::vector<crypto::Tensor> tensors) {
  return {control.dump(), std::move(tensors)};
}

void OpTable::on(const std::string& op, Handler handler) {
  if (!handlers_.emplace(op, std::move(handler)).second) throw std::logic_error("op '" + op + "' registered twice");
}

crypto::Envelope OpTable::dispatch(const tee::Caller& caller, const std::string& op, const nlohmann::json& control,
                                   const crypto::Envelope& request) const {
  const auto handler = handlers_.find(op);
  if (handler == handlers_.end()) throw std::invalid_argument("unknown op '" + op + "'" + unknown_note_);
  return handler->second(caller, control, request);
}

void serve(tee::EnclaveRuntime& runtime, std::shared_ptr<const OpTable> table, tee::EnvelopeLimits limits) {
  tee::serve_envelopes(runtime, [table = std::move(table)](const tee::Caller& caller,
                                                           crypto::Envelope request) -> tee::Result<crypto::Envelope> {
    try {
      const auto control = nlohmann::json::parse(request.control, nullptr, /*allow_exceptions=*/false);
      if (!control.is_object() || !control.contains("op") || !control["op"].is_string())
        throw std::invalid_argument("request control is not a JSON object with a string 'op'");
      return padded(table->dispatch(caller, control["op"].get<std::string>(), control, request));
    } catch (const std::exception& e) {
      return padded(reply({{"error", e.what()}}));
    }
  }, limits);
}

}  // namespace sg::rpc
