// Tensors cross a channel as a stream of bounded frames and come out bit-exact; the assembler refuses chunks
// that do not add up (shape/dtype/bytes mismatch, gaps, overruns) without losing its place.
#include <gtest/gtest.h>

#include <cstring>

#include "crypto/channel_pair.h"
#include "crypto/tensor_payload.h"

namespace sg::crypto {
namespace {

using testing::make_channel_pair;

Bytes pattern(std::size_t n) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i) b[i] = uint8_t((i * 131) >> 3);
  return b;
}

// Streams `data` from client to server and returns the assembled tensor plus the number of frames used.
std::pair<Tensor, int> stream(const TensorMeta& meta, const Bytes& data, std::size_t chunk_bytes) {
  auto [client, server] = make_channel_pair();
  TensorAssembler assembler;
  std::optional<Tensor> received;
  int frames = 0;
  TensorSender sender(chunk_bytes);
  auto sent = sender.send(client, PayloadKind::tensor, meta, data, [&](ByteView frame) -> Status {
    ++frames;
    auto opened = server.open_frame(frame);
    if (!opened) return unexpected(opened.error());
    auto tensor = assembler.add(opened->payload);
    if (!tensor) return unexpected(tensor.error());
    if (*tensor) received = std::move(*tensor);
    return {};
  });
  EXPECT_TRUE(sent) << (sent ? "" : sent.error().message);
  EXPECT_TRUE(received.has_value());
  return {received ? std::move(*received) : Tensor{}, frames};
}

// First-chunk payload for `meta` with `total` declared bytes and `data` at offset 0.
Bytes first_chunk(const std::string& name, const std::string& dtype, std::vector<int64_t> shape, uint64_t total,
                  const Bytes& data) {
  Bytes out;
  ByteWriter w(out);
  w.u8(1);
  w.u16(uint16_t(name.size()));
  w.raw(ByteView(name));
  w.u8(uint8_t(dtype.size()));
  w.raw(ByteView(dtype));
  w.u8(uint8_t(shape.size()));
  for (int64_t d : shape) w.u64(uint64_t(d));
  w.u64(total);
  w.u64(0);
  w.raw(data);
  return out;
}

Bytes continuation(uint64_t offset, const Bytes& data) {
  Bytes out;
  ByteWriter w(out);
  w.u8(2);
  w.u64(offset);
  w.raw(data);
  return out;
}

TEST(TensorPayload, LargeTensorStreamsInChunksAndArrivesBitExact) {
  const TensorMeta meta{"layers.3.activations", "F32", {4, 1000, 320}};
  const Bytes data = pattern(4 * 1000 * 320 * 4);   // 5.1 MB, more than one frame
  auto [tensor, frames] = stream(meta, data, std::size_t(1) << 20);
  EXPECT_EQ(frames, 5);
  EXPECT_EQ(tensor.meta.name, meta.name);
  EXPECT_EQ(tensor.meta.dtype, meta.dtype);
  EXPECT_EQ(tensor.meta.shape, meta.shape);
  EXPECT_EQ(tensor.data, data);
}

TEST(TensorPayload, TensorLargerThanTheFrameLimitStillStreams) {
  const TensorMeta meta{"big", "U8", {3 * int64_t(kDefaultMaxFramePayload)}};
  const Bytes data = pattern(3 * kDefaultMaxFramePayload);
  auto [tensor, frames] = stream(meta, data, 2 * kDefaultMaxFramePayload);   // clamped to the frame limit
  EXPECT_GE(frames, 4);
  EXPECT_EQ(tensor.data, data);
}

TEST(TensorPayload, EmptyTensorRoundTrips) {
  auto [tensor, frames] = stream({"empty", "BF16", {0, 8}}, {}, 1024);
  EXPECT_EQ(frames, 1);
  EXPECT_EQ(tensor.meta.shape, (std::vector<int64_t>{0, 8}));
  EXPECT_TRUE(tensor.data.empty());
}

TEST(TensorPayload, InconsistentTensorRefusedBySender) {
  auto [client, server] = make_channel_pair();
  auto sent = TensorSender().send(client, PayloadKind::tensor, {"x", "F32", {3}}, Bytes(11),
                                 [](ByteView) -> Status { return {}; });
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code, Errc::malformed);
}

TEST(TensorPayload, ShapeThatDoesNotMatchByteCountRejected) {
  TensorAssembler assembler;
  auto r = assembler.add(first_chunk("x", "F32", {2, 3}, 20, Bytes(20)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::malformed);
  EXPECT_FALSE(assembler.in_progress());
}

TEST(TensorPayload, UnknownDtypeRejected) {
  TensorAssembler assembler;
  auto r = assembler.add(first_chunk("x", "F128", {1}, 16, Bytes(16)));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("unknown dtype"), std::string::npos);
}

TEST(TensorPayload, OverflowingShapeRejected) {
  TensorAssembler assembler;
  auto r = assembler.add(first_chunk("x", "F64", {int64_t(1) << 40, int64_t(1) << 40}, 0, {}));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::malformed);
}

TEST(TensorPayload, TensorAboveReceiverLimitRejected) {
  TensorAssembler assembler(1024);
  auto r = assembler.add(first_chunk("x", "U8", {2048}, 2048, Bytes(10)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::oversize);
}

TEST(TensorPayload, ChunkGapOverrunAndStrayChunksRejectedWithoutLosingPlace) {
  TensorAssembler assembler;
  auto stray = assembler.add(continuation(0, Bytes(4)));
  ASSERT_FALSE(stray);   // continuation with nothing begun
  ASSERT_TRUE(assembler.add(first_chunk("x", "U8", {10}, 10, Bytes(4, 1))));
  EXPECT_FALSE(assembler.add(continuation(5, Bytes(2, 2))));   // gap: byte 4 missing
  EXPECT_FALSE(assembler.add(continuation(4, Bytes(7, 2))));   // overrun: 4 + 7 > 10
  EXPECT_FALSE(assembler.add(first_chunk("y", "U8", {1}, 1, Bytes(1))));   // new tensor mid-stream
  auto done = assembler.add(continuation(4, Bytes(6, 2)));     // the genuine next chunk still completes it
  ASSERT_TRUE(done) << done.error().message;
  ASSERT_TRUE(done->has_value());
  EXPECT_EQ((*done)->data, (Bytes{1, 1, 1, 1, 2, 2, 2, 2, 2, 2}));
}

TEST(TensorPayload, TruncatedMetadataRejected) {
  TensorAssembler assembler;
  const Bytes chunk = first_chunk("name", "F32", {4}, 16, Bytes(16));
  for (std::size_t keep = 0; keep < 30; ++keep) {
    EXPECT_FALSE(assembler.add(ByteView(chunk.data(), keep))) << keep;
  }
}

}  // namespace
}  // namespace sg::crypto
