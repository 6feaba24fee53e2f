#include "crypto/envelope.h"

namespace sg::crypto {

const Tensor* Envelope::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.meta.name == name) return &t;
  return nullptr;
}

Result<std::vector<PlainPayload>> envelope_payloads(const Envelope& envelope, std::size_t max_payload,
                                                    std::size_t chunk_bytes) {
  std::vector<PlainPayload> out;
  Bytes scratch;
  for (const auto& t : envelope.tensors) {
    auto encoded = encode_tensor_chunks(t.meta, t.data, chunk_bytes, max_payload, scratch, [&](ByteView chunk) -> Status {
      out.push_back({PayloadKind::tensor, chunk.to_bytes()});
      return {};
    });
    if (!encoded) return unexpected(encoded.error());
  }
  if (envelope.control.size() > max_payload)
    return fail(Errc::oversize, "envelope control text of " + std::to_string(envelope.control.size()) +
                                    " bytes exceeds the frame limit");
  out.push_back({PayloadKind::message, Bytes(envelope.control.begin(), envelope.control.end())});
  return out;
}

Result<std::vector<Bytes>> seal_envelope(OtpChannel& channel, const Envelope& envelope) {
  auto payloads = envelope_payloads(envelope, channel.max_payload());
  if (!payloads) return unexpected(payloads.error());
  std::vector<Bytes> frames(payloads->size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    if (auto sealed = channel.seal_frame((*payloads)[i].kind, (*payloads)[i].bytes, frames[i]); !sealed)
      return unexpected(sealed.error());
  }
  return frames;
}

Result<Envelope> open_envelope(OtpChannel& channel, const std::vector<ByteView>& frames) {
  EnvelopeAssembler assembler;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto opened = channel.open_frame(frames[i]);
    if (!opened) return unexpected(opened.error());
    auto added = assembler.add(opened->header.kind, opened->payload);
    if (!added) return unexpected(added.error());
    if (*added) {
      if (i + 1 != frames.size()) return fail(Errc::malformed, "frames after the end of the envelope");
      return std::move(**added);
    }
  }
  return fail(Errc::truncated, "the envelope is incomplete");
}

Result<std::optional<Envelope>> EnvelopeAssembler::add(PayloadKind kind, ByteView payload) {
  auto drop = [this](Error error) -> Result<std::optional<Envelope>> {
    pending_ = {};
    tensors_ = TensorAssembler(tensors_.max_tensor_bytes());
    return unexpected(std::move(error));
  };
  if (kind == PayloadKind::tensor) {
    auto added = tensors_.add(payload);
    if (!added) return drop(added.error());
    if (*added) {
      if (pending_.tensors.size() >= max_tensors_)
        return drop({Errc::malformed, "envelope carries more than " + std::to_string(max_tensors_) + " tensors"});
      pending_.tensors.push_back(std::move(**added));
    }
    return std::optional<Envelope>{};
  }
  if (kind != PayloadKind::message)
    return drop({Errc::malformed, "envelope: unexpected payload kind " + std::to_string(unsigned(kind))});
  if (tensors_.in_progress()) return drop({Errc::malformed, "envelope: control message arrived inside a tensor"});
  pending_.control.assign(reinterpret_cast<const char*>(payload.data), payload.size);
  std::optional<Envelope> done = std::move(pending_);
  pending_ = {};
  return done;
}

}  // namespace sg::crypto
