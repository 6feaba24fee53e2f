// Envelopes: one application message over an AeadChannel — a control text (JSON by convention) and any number
// of tensors. On the wire an envelope is each tensor's chunk frames (PayloadKind::tensor, tensor_payload.h) in
// order, then one PayloadKind::message frame holding the control text, which completes it. Every frame is
// sealed on its own, so the channel's counter, tag and session checks cover each piece.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "crypto/tensor_payload.h"

namespace sg::crypto {

struct Envelope {
  std::string control;
  std::vector<Tensor> tensors;

  // The tensor called `name`, or nullptr.
  const Tensor* find(const std::string& name) const;
};

struct PlainPayload {
  PayloadKind kind;
  Bytes bytes;
};

// An envelope cut into frame payloads — each tensor's chunks, then the control text — written on demand, so a
// sender puts each payload straight into its frame (seal_frames). Refers to the envelope, which must outlive it.
class EnvelopeFrames {
 public:
  [[nodiscard]] static Result<EnvelopeFrames> plan(const Envelope& envelope, std::size_t max_payload,
                                                   std::size_t chunk_bytes = kDefaultTensorChunkBytes);
  const std::vector<FrameSpec>& specs() const { return specs_; }
  // Writes payload i into `out` (specs()[i].length bytes); safe from several threads at once, never allocates.
  void write(std::size_t i, MutableByteView out) const;
  // Appends payload i to `out`.
  void append(std::size_t i, Bytes& out) const;
  // A writer for seal_frames that refers to this object: use it while this object stays where it is.
  PayloadWriter writer() const {
    return [this](std::size_t i, MutableByteView out) { write(i, out); };
  }

 private:
  static constexpr std::size_t kControl = std::size_t(-1);
  struct Piece {
    std::size_t tensor;   // index into envelope.tensors, or kControl
    ChunkPlan chunk;
  };
  explicit EnvelopeFrames(const Envelope& envelope) : envelope_(&envelope) {}
  const Envelope* envelope_;
  std::vector<Piece> pieces_;
  std::vector<FrameSpec> specs_;
};

// The frame payloads of `envelope` in order, each at most `max_payload` bytes.
[[nodiscard]] Result<std::vector<PlainPayload>> envelope_payloads(const Envelope& envelope, std::size_t max_payload,
                                                                  std::size_t chunk_bytes = kDefaultTensorChunkBytes);

// Seals an envelope into frames on `channel`.
[[nodiscard]] Result<std::vector<Bytes>> seal_envelope(AeadChannel& channel, const Envelope& envelope);

// Opens a reply: `frames` must be exactly one envelope's frames, in order, each authenticated by `channel` (as
// one batch: all are accepted or none).
[[nodiscard]] Result<Envelope> open_envelope(AeadChannel& channel, const std::vector<ByteView>& frames);
// The same, decrypting each frame inside its own buffer (no copy; see AeadChannel::open_frames_in_place for what
// is left in the buffers).
[[nodiscard]] Result<Envelope> open_envelope_in_place(AeadChannel& channel, const std::vector<MutableByteView>& frames);

// Rebuilds envelopes from opened frame payloads, in order.
class EnvelopeAssembler {
 public:
  EnvelopeAssembler(uint64_t max_tensor_bytes = uint64_t(4) << 30, std::size_t max_tensors = 64)
      : tensors_(max_tensor_bytes), max_tensors_(max_tensors) {}

  // Returns the envelope a `message` payload completes; nullopt after a tensor chunk. Other kinds, a message
  // arriving mid-tensor, or too many tensors are malformed (and drop the partial envelope).
  [[nodiscard]] Result<std::optional<Envelope>> add(PayloadKind kind, ByteView payload);

 private:
  TensorAssembler tensors_;
  std::size_t max_tensors_;
  Envelope pending_;
};

}  // namespace sg::crypto
