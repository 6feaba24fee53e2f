#include "tee/envelope_service.h"

#include <map>
#include <memory>

namespace sg::tee {

void serve_envelopes(EnclaveRuntime& runtime, EnvelopeHandler handler, EnvelopeLimits limits) {
  struct State {
    EnvelopeHandler handler;
    EnvelopeLimits limits;
    std::map<crypto::SessionId, crypto::EnvelopeAssembler> assemblers;
  };
  auto state = std::make_shared<State>(State{std::move(handler), limits, {}});
  runtime.on_session_closed([state](const crypto::SessionId& id) { state->assemblers.erase(id); });
  auto on_payload = [state](crypto::PayloadKind kind) {
    return [state, kind](EnclaveSession& session, ByteView plaintext) -> Result<std::vector<OutgoingPayload>> {
      const auto& id = session.channel.session_id();
      auto assembler = state->assemblers.find(id);
      if (assembler == state->assemblers.end())
        assembler = state->assemblers.emplace(id, crypto::EnvelopeAssembler(state->limits.max_tensor_bytes,
                                                                            state->limits.max_tensors)).first;
      auto added = assembler->second.add(kind, plaintext);
      if (!added) return fail(Errc::rejected, added.error().message);
      if (!*added) return std::vector<OutgoingPayload>{};   // more of the envelope is due
      auto reply = state->handler(Caller{id, session.peer}, std::move(**added));
      if (!reply) return crypto::unexpected(reply.error());
      auto payloads = crypto::envelope_payloads(*reply, session.channel.max_payload());
      if (!payloads) return fail(Errc::rejected, payloads.error().message);
      std::vector<OutgoingPayload> out;
      out.reserve(payloads->size());
      for (auto& p : *payloads) out.push_back({p.kind, std::move(p.bytes)});
      return out;
    };
  };
  runtime.frames().add(crypto::PayloadKind::tensor, on_payload(crypto::PayloadKind::tensor));
  runtime.frames().add(crypto::PayloadKind::message, on_payload(crypto::PayloadKind::message));
}

}  // namespace sg::tee
