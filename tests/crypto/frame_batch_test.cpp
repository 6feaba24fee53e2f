// Frames sealed and opened in batches, on several threads: the same frames, counters and rejections as one at a
// time. A batch is opened all or nothing, so one forged frame cannot make the receiver accept the rest or lose
// its place; and the cipher pool runs each frame exactly once whatever the thread count.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "crypto/channel_pair.h"
#include "crypto/cipher_pool.h"

namespace sg::crypto {
namespace {

using testing::make_channel_pair;

// Payload i: `length` bytes of a pattern that differs per frame.
Bytes payload(std::size_t i, std::size_t length) {
  Bytes b(length);
  for (std::size_t k = 0; k < length; ++k) b[k] = uint8_t(i * 31 + k * 7);
  return b;
}

// The payload length of frame i in seal_batch: mixed sizes, frame 0 empty.
std::size_t batch_length(std::size_t i) { return (i * 70001) % 200000; }

std::vector<MutableByteView> mutable_views(std::vector<Bytes>& frames) {
  std::vector<MutableByteView> views;
  for (auto& f : frames) views.push_back({f.data(), f.size()});
  return views;
}

// Seals `count` frames of mixed sizes (some empty) as one batch into separate buffers.
std::vector<Bytes> seal_batch(AeadChannel& sender, std::size_t count) {
  std::vector<FrameSpec> specs;
  std::vector<Bytes> frames;
  for (std::size_t i = 0; i < count; ++i) {
    specs.push_back({i % 2 ? PayloadKind::tensor : PayloadKind::message, batch_length(i)});
    frames.emplace_back(frame_size(specs.back().length));
  }
  auto sealed = sender.seal_frames(specs, mutable_views(frames), [&](std::size_t i, MutableByteView out) {
    const Bytes p = payload(i, out.size);
    std::copy(p.begin(), p.end(), out.data);
  });
  EXPECT_TRUE(sealed) << sealed.error().message;
  return frames;
}

std::vector<ByteView> views_of(const std::vector<Bytes>& frames) { return {frames.begin(), frames.end()}; }

class FrameBatch : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { set_cipher_threads(GetParam()); }
  void TearDown() override { set_cipher_threads(int(std::thread::hardware_concurrency())); }
};

TEST_P(FrameBatch, BatchSealedFramesOpenOneByOneWithConsecutiveCounters) {
  auto [client, server] = make_channel_pair();
  ASSERT_TRUE(server.open_frame(testing::seal(client, Bytes(10, 1))));   // the batch continues the counter
  const auto frames = seal_batch(client, 9);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    auto opened = server.open_frame(frames[i]);
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(opened->header.counter, i + 2);
    EXPECT_EQ(opened->header.kind, i % 2 ? PayloadKind::tensor : PayloadKind::message);
    EXPECT_EQ(opened->payload, payload(i, batch_length(i)));
  }
  EXPECT_TRUE(server.open_frame(testing::seal(client, Bytes(3, 2))));   // and the next single frame follows it
}

TEST_P(FrameBatch, OneByOneSealedFramesOpenAsOneBatch) {
  auto [client, server] = make_channel_pair();
  std::vector<Bytes> frames;
  for (std::size_t i = 0; i < 7; ++i) frames.push_back(testing::seal(client, payload(i, 1000 * i)));
  auto opened = server.open_frames(views_of(frames));
  ASSERT_TRUE(opened) << opened.error().message;
  ASSERT_EQ(opened->size(), frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) EXPECT_EQ((*opened)[i].payload, payload(i, 1000 * i));
}

TEST_P(FrameBatch, OneForgedFrameRejectsTheBatchAndChangesNothing) {
  auto [client, server] = make_channel_pair();
  const auto frames = seal_batch(client, 6);
  auto forged = frames;
  forged[3][kFrameHeaderBytes + 5] ^= 1;
  auto rejected = server.open_frames(views_of(forged));
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, Errc::bad_tag);
  EXPECT_NE(rejected.error().message.find("frame 4 of 6"), std::string::npos) << rejected.error().message;
  auto genuine = server.open_frames(views_of(frames));   // nothing was accepted: the genuine batch still opens
  ASSERT_TRUE(genuine) << genuine.error().message;
  auto replayed = server.open_frames(views_of(frames));
  ASSERT_FALSE(replayed);
  EXPECT_EQ(replayed.error().code, Errc::replayed);
}

TEST_P(FrameBatch, ReorderedOrForeignFramesInABatchAreRejected) {
  auto [client, server] = make_channel_pair();
  auto frames = seal_batch(client, 4);
  std::swap(frames[1], frames[2]);
  auto reordered = server.open_frames(views_of(frames));
  ASSERT_FALSE(reordered);
  EXPECT_EQ(reordered.error().code, Errc::counter_gap);
  std::swap(frames[1], frames[2]);
  auto [other_client, other_server] = make_channel_pair();
  (void)other_server;
  frames[2] = testing::seal(other_client, Bytes(5, 5));
  auto foreign = server.open_frames(views_of(frames));
  ASSERT_FALSE(foreign);
  EXPECT_EQ(foreign.error().code, Errc::wrong_session);
}

TEST_P(FrameBatch, BadBatchIsRefusedBeforeSealingAnything) {
  auto [client, server] = make_channel_pair();
  Bytes small(10);
  const std::vector<FrameSpec> specs{{PayloadKind::message, 100}};
  auto unused = [](std::size_t, MutableByteView) {};
  auto refused = client.seal_frames(specs, {{small.data(), small.size()}}, unused);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::malformed);
  Bytes big(frame_size(client.max_payload() + 1));
  auto oversize = client.seal_frames({{PayloadKind::message, client.max_payload() + 1}}, {{big.data(), big.size()}},
                                     unused);
  ASSERT_FALSE(oversize);
  EXPECT_EQ(oversize.error().code, Errc::oversize);
  auto first = server.open_frame(testing::seal(client, Bytes(4, 4)));   // no counter was used up
  ASSERT_TRUE(first);
  EXPECT_EQ(first->header.counter, 1u);
}

TEST_P(FrameBatch, ExistingPlaintextIsSealedFromWhereItIsButNeverFromInsideAFrame) {
  auto [client, server] = make_channel_pair();
  const std::vector<Bytes> plaintexts = {payload(0, 5000), payload(1, 0), payload(2, 70000)};
  std::vector<FrameSpec> specs;
  std::vector<Bytes> frames;
  for (const Bytes& p : plaintexts) {
    specs.push_back({PayloadKind::message, p.size()});
    frames.emplace_back(frame_size(p.size()), 0xee);
  }
  auto views = mutable_views(frames);
  const ByteView inside_a_frame(frames[2].data() + 100, 5000);
  auto refused = client.seal_frames(specs, views, {inside_a_frame, plaintexts[1], plaintexts[2]});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("overlaps a frame buffer"), std::string::npos) << refused.error().message;
  auto sealed = client.seal_frames(specs, views, {plaintexts.begin(), plaintexts.end()});
  ASSERT_TRUE(sealed) << sealed.error().message;
  auto opened = server.open_frames(views_of(frames));   // counters start at 1: the refusal spent none
  ASSERT_TRUE(opened) << opened.error().message;
  for (std::size_t i = 0; i < plaintexts.size(); ++i) EXPECT_EQ((*opened)[i].payload, plaintexts[i]);
}

// A tag rejection zeroes every payload area (no plaintext stays behind; headers and tags are kept); a header
// rejection touches nothing; a genuine batch opens inside its buffers.
TEST_P(FrameBatch, OpenedInPlaceLikeACopyAndWipedWhenRejected) {
  auto [client, server] = make_channel_pair();
  auto frames = seal_batch(client, 5);
  auto forged = frames;
  forged.back()[kFrameHeaderBytes] ^= 1;
  auto rejected = server.open_frames_in_place(mutable_views(forged));
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, Errc::bad_tag);
  for (std::size_t i = 0; i < forged.size(); ++i) {
    const auto area = forged[i].begin() + kFrameHeaderBytes;
    EXPECT_TRUE(std::all_of(area, area + long(batch_length(i)), [](uint8_t b) { return b == 0; })) << "frame " << i;
    EXPECT_TRUE(std::equal(forged[i].begin(), area, frames[i].begin())) << "header of frame " << i;
  }

  auto reordered = frames;
  std::swap(reordered[1], reordered[2]);
  const auto before = reordered;
  auto gap = server.open_frames_in_place(mutable_views(reordered));
  ASSERT_FALSE(gap);
  EXPECT_EQ(gap.error().code, Errc::counter_gap);
  EXPECT_EQ(reordered, before);

  auto opened = server.open_frames_in_place(mutable_views(frames));
  ASSERT_TRUE(opened) << opened.error().message;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ((*opened)[i].header.counter, i + 1);
    EXPECT_EQ((*opened)[i].payload.to_bytes(), payload(i, batch_length(i)));
    EXPECT_EQ((*opened)[i].payload.data, frames[i].data() + kFrameHeaderBytes);   // inside the frame: no copy
  }
}

INSTANTIATE_TEST_SUITE_P(Threads, FrameBatch, ::testing::Values(1, 2, 4));

TEST(CipherPool, RunsEveryIndexExactlyOnceFromConcurrentCallers) {
  set_cipher_threads(3);
  auto run = [](std::size_t count) {
    std::vector<std::atomic<int>> seen(count);
    for (int round = 0; round < 50; ++round) for_each_frame(count, [&](std::size_t i) { seen[i]++; });
    for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(seen[i].load(), 50) << "index " << i << " of " << count;
  };
  std::thread other([&] { run(37); });   // while this thread's batches run, another thread's run (serially)
  for (std::size_t count : {0, 1, 2, 5, 64}) run(count);
  other.join();
  set_cipher_threads(int(std::thread::hardware_concurrency()));
}

}  // namespace
}  // namespace sg::crypto
