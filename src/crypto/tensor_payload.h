// Tensors over an AeadChannel: name, dtype, shape and raw little-endian bytes, streamed as a sequence of frames
// so a tensor of any size crosses a channel whose frames are bounded. Each frame payload is one chunk:
//
//   u8  chunk type      1 = first chunk (carries the metadata), 2 = continuation
//   first chunk only:   u16 name length, name, u8 dtype length, dtype, u8 ndim, i64 dims[ndim], u64 total bytes
//   u64 offset          byte offset of this chunk's data in the tensor (chunks arrive in order)
//   data                the rest of the payload
//
// dtype uses the safetensors spelling ("F32", "BF16", ...). The receiver checks that the shape and dtype
// account for exactly the total byte count and that chunks are contiguous and never overrun it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "crypto/aead_channel.h"

namespace sg::crypto {

inline constexpr std::size_t kDefaultTensorChunkBytes = std::size_t(128) << 10;

struct TensorMeta {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
};

struct Tensor {
  TensorMeta meta;
  Bytes data;   // raw little-endian elements, row-major
};

// Byte size of one element of `dtype`, or nullopt for an unknown dtype.
[[nodiscard]] std::optional<std::size_t> dtype_bytes(const std::string& dtype);

// Receives each sealed frame (or plaintext chunk); returning an error stops the stream.
using FrameSink = std::function<Status(ByteView frame)>;
using ChunkSink = std::function<Status(ByteView chunk)>;

// One chunk of a tensor's stream: where its data starts in the tensor, how many data bytes it carries, and the
// size of its whole payload (chunk header + data).
struct ChunkPlan {
  uint64_t offset = 0;
  std::size_t data_bytes = 0;
  std::size_t payload_bytes = 0;
};

// The chunks of a tensor of `data_bytes` bytes, each fitting `max_payload` and carrying at most `chunk_bytes` of
// data. Fails with malformed when the metadata does not account for exactly `data_bytes`.
[[nodiscard]] Result<std::vector<ChunkPlan>> plan_tensor_chunks(const TensorMeta& meta, std::size_t data_bytes,
                                                                std::size_t chunk_bytes, std::size_t max_payload);
// Writes one planned chunk's payload of the tensor (meta, data) into `out` (chunk.payload_bytes long), or
// appends it to `out`. Neither allocates beyond `out`'s growth.
void write_tensor_chunk(const TensorMeta& meta, ByteView data, const ChunkPlan& chunk, MutableByteView out);
void append_tensor_chunk(const TensorMeta& meta, ByteView data, const ChunkPlan& chunk, Bytes& out);

// Splits a tensor into chunk payloads (the format above) that each fit in `max_payload` bytes and carry at most
// `chunk_bytes` of data, and hands them to `sink` in order, built in `scratch`. Fails with malformed when
// `data` does not hold exactly numel * dtype size bytes.
[[nodiscard]] Status encode_tensor_chunks(const TensorMeta& meta, ByteView data, std::size_t chunk_bytes,
                                          std::size_t max_payload, Bytes& scratch, const ChunkSink& sink);

// Seals tensors into frames. Keeps its chunk and frame buffers between tensors, so a training loop sending a
// tensor every step does not pay for fresh pages each time.
class TensorSender {
 public:
  explicit TensorSender(std::size_t chunk_bytes = kDefaultTensorChunkBytes) : chunk_bytes_(chunk_bytes) {}

  // Seals `data` (exactly numel * dtype size bytes) as frames of `kind`, each carrying at most chunk_bytes of
  // data (fewer if the channel's frame limit requires), and hands them to `sink` in order. The frame passed to
  // the sink is only valid during the call.
  [[nodiscard]] Status send(AeadChannel& channel, PayloadKind kind, const TensorMeta& meta, ByteView data,
                            const FrameSink& sink);

 private:
  std::size_t chunk_bytes_;
  Bytes payload_, frame_;
};

// Reassembles tensor chunks (already authenticated and decrypted by the channel) into whole tensors.
class TensorAssembler {
 public:
  // `max_tensor_bytes` caps what one peer can make this side allocate.
  explicit TensorAssembler(uint64_t max_tensor_bytes = uint64_t(64) << 30) : max_tensor_bytes_(max_tensor_bytes) {}

  // Consumes one chunk payload. Returns the tensor when this chunk completes it, nullopt when more chunks
  // are due. A rejected chunk (Errc::malformed / oversize) leaves the assembler unchanged.
  [[nodiscard]] Result<std::optional<Tensor>> add(ByteView chunk);
  bool in_progress() const { return current_.has_value(); }
  uint64_t max_tensor_bytes() const { return max_tensor_bytes_; }

 private:
  uint64_t max_tensor_bytes_;
  std::optional<Tensor> current_;
  uint64_t total_ = 0;
};

}  // namespace sg::crypto
