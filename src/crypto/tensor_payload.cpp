#include "crypto/tensor_payload.h"

#include <algorithm>
#include <map>

namespace sg::crypto {
namespace {

constexpr uint8_t kFirstChunk = 1;
constexpr uint8_t kContinuation = 2;
constexpr std::size_t kMaxNameBytes = 4096;
constexpr std::size_t kMaxDims = 16;

// A field writer with ByteWriter's interface that only counts (PointerWriter, bytes.h, writes chunks in place).
struct SizeCounter {
  std::size_t bytes = 0;
  void u8(uint8_t) { bytes += 1; }
  void u16(uint16_t) { bytes += 2; }
  void u64(uint64_t) { bytes += 8; }
  void raw(ByteView b) { bytes += b.size; }
};

template <class Writer>
void write_meta(Writer& w, const TensorMeta& meta, uint64_t total) {
  w.u16(uint16_t(meta.name.size()));
  w.raw(ByteView(meta.name));
  w.u8(uint8_t(meta.dtype.size()));
  w.raw(ByteView(meta.dtype));
  w.u8(uint8_t(meta.shape.size()));
  for (int64_t d : meta.shape) w.u64(uint64_t(d));
  w.u64(total);
}

// numel * element size, or nullopt on a negative dim or overflow.
std::optional<uint64_t> tensor_bytes(const TensorMeta& meta) {
  const auto elem = dtype_bytes(meta.dtype);
  if (!elem) return std::nullopt;
  uint64_t bytes = *elem;
  for (int64_t d : meta.shape) {
    if (d < 0 || (d != 0 && bytes > UINT64_MAX / uint64_t(d))) return std::nullopt;
    bytes *= uint64_t(d);
  }
  return bytes;
}

Result<TensorMeta> read_meta(ByteReader& r, uint64_t& total) {
  TensorMeta meta;
  uint16_t name_len = 0;
  uint8_t dtype_len = 0, ndim = 0;
  ByteView name, dtype;
  if (!(r.u16(name_len) && name_len <= kMaxNameBytes && r.raw(name_len, name) && r.u8(dtype_len) &&
        r.raw(dtype_len, dtype) && r.u8(ndim) && ndim <= kMaxDims)) {
    return fail(Errc::malformed, "tensor chunk: truncated or oversized metadata");
  }
  meta.name.assign(reinterpret_cast<const char*>(name.data), name.size);
  meta.dtype.assign(reinterpret_cast<const char*>(dtype.data), dtype.size);
  for (uint8_t i = 0; i < ndim; ++i) {
    uint64_t d = 0;
    if (!r.u64(d)) return fail(Errc::malformed, "tensor '" + meta.name + "': truncated shape");
    meta.shape.push_back(int64_t(d));
  }
  if (!r.u64(total)) return fail(Errc::malformed, "tensor '" + meta.name + "': truncated byte count");
  if (!dtype_bytes(meta.dtype)) return fail(Errc::malformed, "tensor '" + meta.name + "': unknown dtype '" + meta.dtype + "'");
  const auto expected = tensor_bytes(meta);
  if (!expected || *expected != total) {
    return fail(Errc::malformed, "tensor '" + meta.name + "': shape and dtype do not match " + std::to_string(total) + " bytes");
  }
  return meta;
}

// The header of a chunk at `offset`: type, the metadata on the first chunk, the offset.
template <class Writer>
void write_chunk_header(Writer& w, const TensorMeta& meta, uint64_t total, uint64_t offset) {
  w.u8(offset == 0 ? kFirstChunk : kContinuation);
  if (offset == 0) write_meta(w, meta, total);
  w.u64(offset);
}

template <class Writer>
void write_chunk(Writer& w, const TensorMeta& meta, ByteView data, const ChunkPlan& chunk) {
  write_chunk_header(w, meta, data.size, chunk.offset);
  w.raw(data.subview(chunk.offset, chunk.data_bytes));
}

std::size_t chunk_header_bytes(const TensorMeta& meta, uint64_t total, uint64_t offset) {
  SizeCounter counter;
  write_chunk_header(counter, meta, total, offset);
  return counter.bytes;
}

}  // namespace

std::optional<std::size_t> dtype_bytes(const std::string& dtype) {
  static const std::map<std::string, std::size_t> sizes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4},
      {"I16", 2}, {"I8", 1},  {"U8", 1},  {"BOOL", 1}};
  auto it = sizes.find(dtype);
  if (it == sizes.end()) return std::nullopt;
  return it->second;
}

Result<std::vector<ChunkPlan>> plan_tensor_chunks(const TensorMeta& meta, std::size_t data_bytes,
                                                  std::size_t chunk_bytes, std::size_t max_payload) {
  const auto expected = tensor_bytes(meta);
  if (!expected || *expected != data_bytes || meta.name.size() > kMaxNameBytes || meta.dtype.size() > 255 ||
      meta.shape.size() > kMaxDims) {
    return fail(Errc::malformed, "tensor '" + meta.name + "': name, dtype, shape and " + std::to_string(data_bytes) +
                                     " data bytes are inconsistent");
  }
  const std::size_t first_header = chunk_header_bytes(meta, data_bytes, 0);
  const std::size_t next_header = chunk_header_bytes(meta, data_bytes, 1);
  if (max_payload <= first_header) return fail(Errc::oversize, "channel frame limit too small for a tensor chunk");
  std::vector<ChunkPlan> chunks;
  uint64_t offset = 0;
  do {
    const std::size_t header = offset == 0 ? first_header : next_header;
    const std::size_t room = std::max<std::size_t>(1, std::min(chunk_bytes, max_payload - header));
    const std::size_t n = std::min<std::size_t>(room, data_bytes - offset);
    chunks.push_back({offset, n, header + n});
    offset += n;
  } while (offset < data_bytes);
  return chunks;
}

void write_tensor_chunk(const TensorMeta& meta, ByteView data, const ChunkPlan& chunk, MutableByteView out) {
  PointerWriter w(out.data);
  write_chunk(w, meta, data, chunk);
}

void append_tensor_chunk(const TensorMeta& meta, ByteView data, const ChunkPlan& chunk, Bytes& out) {
  out.reserve(out.size() + chunk.payload_bytes);
  ByteWriter w(out);
  write_chunk(w, meta, data, chunk);
}

Status encode_tensor_chunks(const TensorMeta& meta, ByteView data, std::size_t chunk_bytes, std::size_t max_payload,
                            Bytes& scratch, const ChunkSink& sink) {
  auto chunks = plan_tensor_chunks(meta, data.size, chunk_bytes, max_payload);
  if (!chunks) return unexpected(chunks.error());
  for (const ChunkPlan& chunk : *chunks) {
    scratch.clear();
    append_tensor_chunk(meta, data, chunk, scratch);
    if (auto sent = sink(scratch); !sent) return sent;
  }
  return {};
}

Status TensorSender::send(AeadChannel& channel, PayloadKind kind, const TensorMeta& meta, ByteView data,
                          const FrameSink& sink) {
  return encode_tensor_chunks(meta, data, chunk_bytes_, channel.max_payload(), payload_, [&](ByteView chunk) -> Status {
    if (auto sealed = channel.seal_frame(kind, chunk, frame_); !sealed) return sealed;
    return sink(frame_);
  });
}

Result<std::optional<Tensor>> TensorAssembler::add(ByteView chunk) {
  ByteReader r(chunk);
  uint8_t type = 0;
  if (!r.u8(type)) return fail(Errc::malformed, "tensor chunk is empty");
  std::optional<Tensor> started;   // a new tensor begun by this chunk; committed only if the chunk is valid
  uint64_t total = total_;
  if (type == kFirstChunk) {
    if (current_) return fail(Errc::malformed, "tensor '" + current_->meta.name + "' is incomplete but a new tensor began");
    auto meta = read_meta(r, total);
    if (!meta) return unexpected(meta.error());
    if (total > max_tensor_bytes_) {
      return fail(Errc::oversize, "tensor '" + meta->name + "' of " + std::to_string(total) +
                                      " bytes exceeds the receiver's limit of " + std::to_string(max_tensor_bytes_));
    }
    started = Tensor{std::move(*meta), {}};
  } else if (type != kContinuation) {
    return fail(Errc::malformed, "unknown tensor chunk type " + std::to_string(type));
  } else if (!current_) {
    return fail(Errc::malformed, "tensor continuation chunk without a first chunk");
  }
  Tensor& tensor = started ? *started : *current_;
  uint64_t offset = 0;
  if (!r.u64(offset)) return fail(Errc::malformed, "tensor '" + tensor.meta.name + "': truncated chunk offset");
  const ByteView data = r.rest();
  if (offset != tensor.data.size() || data.size > total - offset) {
    return fail(Errc::malformed, "tensor '" + tensor.meta.name + "': chunk [" + std::to_string(offset) + ", +" +
                                     std::to_string(data.size) + ") does not continue at byte " +
                                     std::to_string(tensor.data.size()) + " of " + std::to_string(total));
  }
  if (started) {
    current_ = std::move(started);
    total_ = total;
    current_->data.reserve(std::size_t(std::min<uint64_t>(total_, uint64_t(1) << 30)));
  }
  current_->data.insert(current_->data.end(), data.data, data.data + data.size);
  if (current_->data.size() < total_) return std::optional<Tensor>{};
  std::optional<Tensor> done = std::move(current_);
  current_.reset();
  total_ = 0;
  return done;
}

}  // namespace sg::crypto

