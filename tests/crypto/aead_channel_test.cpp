// The AEAD channel's guarantees: frames round-trip in both directions, and every forged, replayed, reordered,
// misrouted, truncated, oversize or foreign-version frame is rejected with its own error code while the session
// stays usable for the next genuine frame.
#include <gtest/gtest.h>

#include <algorithm>

#include "crypto/channel_pair.h"

namespace sg::crypto {
namespace {

using testing::make_channel_pair;
using testing::seal;

const Bytes kSecret = [] {
  Bytes b(1000);
  for (std::size_t i = 0; i < b.size(); ++i) b[i] = uint8_t(i * 7 + 3);
  return b;
}();

// Opens `frame` on `receiver` and expects rejection with `code`, then proves the rejection changed nothing:
// `next`, the genuine frame the receiver is due (for a forgery: the untampered original), still opens.
void expect_rejected_and_state_kept(AeadChannel& receiver, const Bytes& frame, Errc code, const Bytes& next) {
  auto rejected = receiver.open_frame(frame);
  ASSERT_FALSE(rejected);
  EXPECT_EQ(rejected.error().code, code) << rejected.error().message;
  auto opened = receiver.open_frame(next);
  ASSERT_TRUE(opened) << opened.error().message;
}

TEST(AeadChannel, FrameRoundTripsInBothDirections) {
  auto [client, server] = make_channel_pair();
  auto to_server = server.open_frame(seal(client, kSecret));
  ASSERT_TRUE(to_server) << to_server.error().message;
  EXPECT_EQ(to_server->payload, kSecret);
  EXPECT_EQ(to_server->header.counter, 1u);
  auto to_client = client.open_frame(seal(server, kSecret, PayloadKind::echo));
  ASSERT_TRUE(to_client) << to_client.error().message;
  EXPECT_EQ(to_client->payload, kSecret);
  EXPECT_EQ(to_client->header.kind, PayloadKind::echo);
}

TEST(AeadChannel, EmptyPayloadRoundTrips) {
  auto [client, server] = make_channel_pair();
  auto opened = server.open_frame(seal(client, Bytes{}));
  ASSERT_TRUE(opened);
  EXPECT_TRUE(opened->payload.empty());
}

TEST(AeadChannel, CiphertextHidesPlaintextAndNeverRepeats) {
  auto [client, server] = make_channel_pair();
  const Bytes a = seal(client, kSecret), b = seal(client, kSecret);
  for (const Bytes& frame : {a, b}) {
    EXPECT_EQ(std::search(frame.begin(), frame.end(), kSecret.begin(), kSecret.begin() + 16), frame.end());
  }
  // Same plaintext, next counter: a fresh keystream, so the ciphertexts differ.
  EXPECT_FALSE(std::equal(a.begin() + kFrameHeaderBytes, a.end(), b.begin() + kFrameHeaderBytes));
}

TEST(AeadChannel, TamperedCiphertextRejected) {
  auto [client, server] = make_channel_pair();
  const Bytes genuine = seal(client, kSecret);
  Bytes frame = genuine;
  frame[kFrameHeaderBytes + 10] ^= 0x01;
  expect_rejected_and_state_kept(server, frame, Errc::bad_tag, genuine);
}

TEST(AeadChannel, TamperedHeaderRejected) {
  auto [client, server] = make_channel_pair();
  const Bytes genuine = seal(client, kSecret, PayloadKind::message);
  Bytes frame = genuine;
  frame[1] = uint8_t(PayloadKind::echo);   // the kind is authenticated as associated data
  expect_rejected_and_state_kept(server, frame, Errc::bad_tag, genuine);
}

TEST(AeadChannel, TamperedTagRejected) {
  auto [client, server] = make_channel_pair();
  const Bytes genuine = seal(client, kSecret);
  Bytes frame = genuine;
  frame.back() ^= 0x80;
  expect_rejected_and_state_kept(server, frame, Errc::bad_tag, genuine);
}

TEST(AeadChannel, ReplayedFrameRejected) {
  auto [client, server] = make_channel_pair();
  const Bytes first = seal(client, kSecret);
  ASSERT_TRUE(server.open_frame(first));
  expect_rejected_and_state_kept(server, first, Errc::replayed, seal(client, kSecret));
}

TEST(AeadChannel, OldFrameRejectedAfterNewerOnes) {
  auto [client, server] = make_channel_pair();
  const Bytes f1 = seal(client, kSecret), f2 = seal(client, kSecret);
  ASSERT_TRUE(server.open_frame(f1));
  ASSERT_TRUE(server.open_frame(f2));
  expect_rejected_and_state_kept(server, f1, Errc::replayed, seal(client, kSecret));
}

TEST(AeadChannel, ReorderedFrameRejectedThenInOrderDeliveryWorks) {
  auto [client, server] = make_channel_pair();
  const Bytes f1 = seal(client, kSecret), f2 = seal(client, kSecret);
  auto early = server.open_frame(f2);
  ASSERT_FALSE(early);
  EXPECT_EQ(early.error().code, Errc::counter_gap) << early.error().message;
  EXPECT_TRUE(server.open_frame(f1));
  EXPECT_TRUE(server.open_frame(f2));
}

TEST(AeadChannel, FrameOfAnotherSessionRejected) {
  auto [client, server] = make_channel_pair();
  auto other = make_channel_pair();
  expect_rejected_and_state_kept(server, seal(other.client, kSecret), Errc::wrong_session, seal(client, kSecret));
}

TEST(AeadChannel, FrameWithForgedSessionIdRejected) {
  auto [client, server] = make_channel_pair();
  auto other = make_channel_pair();
  // A foreign frame relabelled with this session's id still fails: the id is authenticated and the key differs.
  Bytes frame = seal(other.client, kSecret);
  std::copy(server.session_id().begin(), server.session_id().end(), frame.begin() + 16);
  expect_rejected_and_state_kept(server, frame, Errc::bad_tag, seal(client, kSecret));
}

TEST(AeadChannel, OwnFrameReflectedBackRejected) {
  auto [client, server] = make_channel_pair();
  // A frame the client sent, bounced back at the client: wrong direction key, so the tag fails.
  expect_rejected_and_state_kept(client, seal(client, kSecret), Errc::bad_tag, seal(server, kSecret));
}

TEST(AeadChannel, TruncatedFrameRejected) {
  auto [client, server] = make_channel_pair();
  const Bytes frame = seal(client, kSecret);
  for (std::size_t keep : {std::size_t(0), std::size_t(10), kFrameHeaderBytes, kFrameHeaderBytes + kFrameTagBytes,
                           frame.size() - 1}) {
    auto opened = server.open_frame(ByteView(frame.data(), keep));
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error().code, Errc::truncated) << keep << ": " << opened.error().message;
  }
  EXPECT_TRUE(server.open_frame(frame));
}

TEST(AeadChannel, TrailingBytesRejected) {
  auto [client, server] = make_channel_pair();
  Bytes frame = seal(client, kSecret);
  const Bytes genuine = frame;
  frame.push_back(0);
  expect_rejected_and_state_kept(server, frame, Errc::malformed, genuine);
}

TEST(AeadChannel, OversizeFrameRejected) {
  auto sender = make_channel_pair(4096);
  auto [client, server] = make_channel_pair(1024);
  // A frame whose declared length exceeds the receiver's limit is refused before any decryption.
  Bytes frame = seal(sender.client, Bytes(2048));
  std::copy(server.session_id().begin(), server.session_id().end(), frame.begin() + 16);
  expect_rejected_and_state_kept(server, frame, Errc::oversize, seal(client, Bytes(10)));
}

TEST(AeadChannel, OversizePayloadRefusedBySender) {
  auto [client, server] = make_channel_pair(1024);
  Bytes frame;
  auto sealed = client.seal_frame(PayloadKind::message, Bytes(1025), frame);
  ASSERT_FALSE(sealed);
  EXPECT_EQ(sealed.error().code, Errc::oversize);
  // The refused payload consumed no counter.
  auto opened = server.open_frame(seal(client, kSecret));
  ASSERT_TRUE(opened);
  EXPECT_EQ(opened->header.counter, 1u);
}

TEST(AeadChannel, WrongVersionRejected) {
  auto [client, server] = make_channel_pair();
  const Bytes genuine = seal(client, kSecret);
  Bytes frame = genuine;
  frame[0] = kFrameVersion + 1;
  expect_rejected_and_state_kept(server, frame, Errc::wrong_version, genuine);
}

TEST(AeadChannel, NonZeroReservedFieldRejected) {
  auto [client, server] = make_channel_pair();
  const Bytes genuine = seal(client, kSecret);
  Bytes frame = genuine;
  frame[2] = 1;
  expect_rejected_and_state_kept(server, frame, Errc::malformed, genuine);
}

TEST(AeadChannel, TooSmallOutputBufferRejectedWithoutConsumingTheFrame) {
  auto [client, server] = make_channel_pair();
  const Bytes frame = seal(client, kSecret);
  Bytes small(10);
  auto opened = server.open_frame_into(frame, {small.data(), small.size()});
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::buffer_too_small);
  EXPECT_TRUE(server.open_frame(frame));
}

TEST(KeyExchange, PeersAgreeOnSessionIdAndSessionsDiffer) {
  auto a = make_channel_pair(), b = make_channel_pair();
  EXPECT_EQ(a.client.session_id(), a.server.session_id());
  EXPECT_NE(a.client.session_id(), b.client.session_id());
}

TEST(KeyExchange, LowOrderPeerKeyRejected) {
  const KxKeyPair mine = KxKeyPair::generate();
  auto keys = derive_session_keys(Role::client, mine, KxPublicKey{});
  ASSERT_FALSE(keys);
  EXPECT_EQ(keys.error().code, Errc::bad_key);
}

}  // namespace
}  // namespace sg::crypto
