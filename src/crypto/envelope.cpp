#include "crypto/envelope.h"

namespace sg::crypto {

const Tensor* Envelope::find(const std::string& name) const {
  for (const auto& t : tensors)
    if (t.meta.name == name) return &t;
  return nullptr;
}

Result<EnvelopeFrames> EnvelopeFrames::plan(const Envelope& envelope, std::size_t max_payload,
                                            std::size_t chunk_bytes) {
  EnvelopeFrames frames(envelope);
  for (std::size_t t = 0; t < envelope.tensors.size(); ++t) {
    const Tensor& tensor = envelope.tensors[t];
    auto chunks = plan_tensor_chunks(tensor.meta, tensor.data.size(), chunk_bytes, max_payload);
    if (!chunks) return unexpected(chunks.error());
    for (const ChunkPlan& chunk : *chunks) {
      frames.pieces_.push_back({t, chunk});
      frames.specs_.push_back({PayloadKind::tensor, chunk.payload_bytes});
    }
  }
  if (envelope.control.size() > max_payload)
    return fail(Errc::oversize, "envelope control text of " + std::to_string(envelope.control.size()) +
                                    " bytes exceeds the frame limit");
  frames.pieces_.push_back({kControl, {}});
  frames.specs_.push_back({PayloadKind::message, envelope.control.size()});
  return frames;
}

void EnvelopeFrames::append(std::size_t i, Bytes& out) const {
  const Piece& piece = pieces_[i];
  if (piece.tensor == kControl) {
    out.insert(out.end(), envelope_->control.begin(), envelope_->control.end());
    return;
  }
  const Tensor& tensor = envelope_->tensors[piece.tensor];
  append_tensor_chunk(tensor.meta, tensor.data, piece.chunk, out);
}

void EnvelopeFrames::write(std::size_t i, MutableByteView out) const {
  const Piece& piece = pieces_[i];
  if (piece.tensor == kControl) {
    std::copy(envelope_->control.begin(), envelope_->control.end(), out.data);
    return;
  }
  const Tensor& tensor = envelope_->tensors[piece.tensor];
  write_tensor_chunk(tensor.meta, tensor.data, piece.chunk, out);
}

Result<std::vector<PlainPayload>> envelope_payloads(const Envelope& envelope, std::size_t max_payload,
                                                    std::size_t chunk_bytes) {
  auto frames = EnvelopeFrames::plan(envelope, max_payload, chunk_bytes);
  if (!frames) return unexpected(frames.error());
  std::vector<PlainPayload> out;
  for (std::size_t i = 0; i < frames->specs().size(); ++i) {
    out.push_back({frames->specs()[i].kind, {}});
    frames->append(i, out.back().bytes);
  }
  return out;
}

Result<std::vector<Bytes>> seal_envelope(AeadChannel& channel, const Envelope& envelope) {
  auto plan = EnvelopeFrames::plan(envelope, channel.max_payload());
  if (!plan) return unexpected(plan.error());
  std::vector<Bytes> frames;
  std::vector<MutableByteView> views;
  frames.reserve(plan->specs().size());
  for (const FrameSpec& spec : plan->specs()) {
    frames.emplace_back(frame_size(spec.length));
    views.push_back({frames.back().data(), frames.back().size()});
  }
  if (auto sealed = channel.seal_frames(plan->specs(), views, plan->writer()); !sealed)
    return unexpected(sealed.error());
  return frames;
}

namespace {

// Rebuilds the one envelope that opened frames make, in order (payload(f): frame f's plaintext).
template <class Opened, class Payload>
Result<Envelope> assemble(const std::vector<Opened>& opened, Payload payload) {
  EnvelopeAssembler assembler;
  for (std::size_t i = 0; i < opened.size(); ++i) {
    auto added = assembler.add(opened[i].header.kind, payload(opened[i]));
    if (!added) return unexpected(added.error());
    if (*added) {
      if (i + 1 != opened.size()) return fail(Errc::malformed, "frames after the end of the envelope");
      return std::move(**added);
    }
  }
  return fail(Errc::truncated, "the envelope is incomplete");
}

}  // namespace

Result<Envelope> open_envelope(AeadChannel& channel, const std::vector<ByteView>& frames) {
  auto opened = channel.open_frames(frames);
  if (!opened) return unexpected(opened.error());
  return assemble(*opened, [](const OpenedFrame& f) { return ByteView(f.payload); });
}

Result<Envelope> open_envelope_in_place(AeadChannel& channel, const std::vector<MutableByteView>& frames) {
  auto opened = channel.open_frames_in_place(frames);
  if (!opened) return unexpected(opened.error());
  return assemble(*opened, [](const OpenedInPlace& f) { return f.payload; });
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
