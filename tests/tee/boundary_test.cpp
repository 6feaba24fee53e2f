// The host<->enclave wire format and shared ring never trust what the other side claims: malformed datagrams,
// ring references outside the ring, and unsealed (resizable) shared memory are all refused.
#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include "tee/shm_ring.h"
#include "tee/socket_endpoint.h"
#include "tee/stream_channel.h"

namespace sg::tee {
namespace {

TEST(Boundary, DatagramRoundTrips) {
  const Bytes payload = {1, 2, 3};
  const Bytes wire = encode_datagram(MsgType::get_evidence, payload, false);
  auto parsed = parse_datagram(wire);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->type, MsgType::get_evidence);
  EXPECT_FALSE(parsed->in_ring);
  EXPECT_EQ(parsed->payload.to_bytes(), payload);
}

TEST(Boundary, MalformedDatagramsRejected) {
  const Bytes good = encode_datagram(MsgType::health, Bytes{9, 9}, false);
  auto expect_bad = [](Bytes wire, const char* what) {
    auto parsed = parse_datagram(wire);
    ASSERT_FALSE(parsed) << what;
    EXPECT_EQ(parsed.error().code, Errc::protocol) << what;
  };
  expect_bad(Bytes(good.begin(), good.begin() + 10), "shorter than header");
  Bytes magic = good;
  magic[0] = 'X';
  expect_bad(magic, "bad magic");
  Bytes version = good;
  version[4] = uint8_t(kBoundaryVersion + 1);   // u16 little-endian
  expect_bad(version, "other version");
  version[4] = uint8_t(kBoundaryVersion - 1);
  expect_bad(version, "older version");
  Bytes flags = good;
  flags[8] = 0x80;
  expect_bad(flags, "unknown flags");
  Bytes longer = good;
  longer.push_back(0);
  expect_bad(longer, "payload longer than declared");
  expect_bad(Bytes(good.begin(), good.end() - 1), "payload shorter than declared");
}

TEST(Boundary, FrameListsSplitWithinTheLimitAndKeepOrder) {
  std::vector<Bytes> frames;
  std::vector<std::size_t> sizes;
  for (uint8_t i = 0; i < 10; ++i) {
    frames.push_back(Bytes(100 + i * 10, i));
    sizes.push_back(frames.back().size());
  }
  auto layout = layout_frame_lists(sizes, 400);
  ASSERT_GT(layout.lists.size(), 1u);
  ASSERT_EQ(layout.slots.size(), frames.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    ASSERT_EQ(layout.slots[i].size, frames[i].size());
    std::copy(frames[i].begin(), frames[i].end(), layout.slots[i].data);
  }
  std::vector<Bytes> joined;
  for (const Bytes& list : layout.lists) {
    EXPECT_LE(list.size(), 400u);
    auto part = parse_frame_list(list);
    ASSERT_TRUE(part);
    for (const ByteView& f : *part) joined.push_back(f.to_bytes());
  }
  EXPECT_EQ(joined, frames);
  EXPECT_EQ(layout_frame_lists(sizes, 1 << 20).lists.size(), 1u);   // fits: one list
  auto whole = parse_frame_list(encode_frame_list(frames));
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->size(), frames.size());
  EXPECT_EQ(layout_frame_lists({500}, 400).lists.size(), 1u);   // a frame over the limit: a list of its own
}

TEST(Boundary, FrameListCountBeyondItsBytesRejectedBeforeAllocating) {
  const Bytes claims_a_billion = {0x00, 0xca, 0x9a, 0x3b, 0, 0, 0, 0};   // count 1e9, then one empty frame
  auto parsed = parse_frame_list(claims_a_billion);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find("count 1000000000 exceeds its bytes"), std::string::npos)
      << parsed.error().message;
}

TEST(Boundary, UnknownTypeParsesButIsNamedInHex) {
  auto parsed = parse_datagram(encode_datagram(MsgType(0x7777), {}, false));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(msg_type_name(parsed->type), "0x7777");
}

TEST(Boundary, RingReferencesOutsideTheRingRejected) {
  Bytes memory(1024);
  const ShmRing ring(memory.data(), memory.size());
  for (RingSlice slice : {RingSlice{1025, 0}, RingSlice{1000, 25}, RingSlice{0, 1025},
                          RingSlice{UINT64_MAX - 4, 10}, RingSlice{10, UINT64_MAX}}) {
    auto taken = ring.take(slice);
    ASSERT_FALSE(taken) << slice.offset << "+" << slice.length;
    EXPECT_EQ(taken.error().code, Errc::protocol);
  }
  EXPECT_TRUE(ring.take(RingSlice{1000, 24}));
  EXPECT_FALSE(parse_ring_slice(Bytes(15)));
}

TEST(Boundary, RingWrapsAndReaderGetsACopy) {
  Bytes memory(100);
  ShmRing ring(memory.data(), memory.size());
  auto first = ring.put(Bytes(60, 1));
  auto second = ring.put(Bytes(60, 2));   // does not fit after the first: wraps to the start
  ASSERT_TRUE(first && second);
  EXPECT_EQ(second->offset, 0u);
  auto taken = ring.take(*second);
  ASSERT_TRUE(taken);
  memory[0] = 7;   // the writer (a host) changing shared memory after the fact does not reach the copy
  EXPECT_EQ((*taken)[0], 2);
  EXPECT_FALSE(ring.put(Bytes(101)));
}

TEST(Boundary, EnclaveRefusesResizableSharedMemory) {
  const int fd = ::memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::ftruncate(fd, 1 << 20), 0);
  auto attached = SharedMemory::attach(fd);
  ASSERT_FALSE(attached);
  EXPECT_NE(attached.error().message.find("not sealed"), std::string::npos) << attached.error().message;
  ::close(fd);
}

TEST(Boundary, HostCreatedSharedMemoryIsSealedAndAttachable) {
  auto memory = SharedMemory::create(1 << 20);
  ASSERT_TRUE(memory) << memory.error().message;
  EXPECT_NE(::ftruncate(memory->fd(), 4096), 0);   // cannot be shrunk under the enclave
  auto attached = SharedMemory::attach(::dup(memory->fd()));
  ASSERT_TRUE(attached) << attached.error().message;
  EXPECT_EQ(attached->size(), std::size_t(1) << 20);
}

// Stream endpoints are numeric and named exactly; anything else is refused with the forms expected.
TEST(Boundary, StreamEndpointsParseExactly) {
  auto tcp = parse_endpoint("tcp:127.0.0.1:7000");
  ASSERT_TRUE(tcp) << tcp.error().message;
  EXPECT_EQ(tcp->kind, SocketEndpoint::Kind::tcp);
  EXPECT_EQ(tcp->address, "127.0.0.1");
  EXPECT_EQ(tcp->port, 7000);
  auto v6 = parse_endpoint("tcp:[::1]:0");
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(v6->address, "::1");
  EXPECT_EQ(v6->text(), "tcp:[::1]:0");
  auto vsock = parse_endpoint("vsock:2:5000");
  ASSERT_TRUE(vsock) << vsock.error().message;
  EXPECT_EQ(vsock->kind, SocketEndpoint::Kind::vsock);
  EXPECT_EQ(vsock->cid, 2u);
  EXPECT_EQ(vsock->port, 5000);
  EXPECT_EQ(vsock->text(), "vsock:2:5000");
  EXPECT_EQ(parse_endpoint("vsock:2:4000000000").value().port, 4000000000u);   // vsock ports are 32 bits
  for (const char* bad : {"127.0.0.1:7000", "tcp:localhost:7000", "tcp:127.0.0.1:70000", "tcp:127.0.0.1:",
                          "udp:127.0.0.1:1", "vsock:host:1", "tcp:::1:5", "vsock:2"}) {
    auto parsed = parse_endpoint(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, Errc::config) << bad;
    EXPECT_NE(parsed.error().message.find("expected tcp:ADDRESS:PORT"), std::string::npos) << parsed.error().message;
  }
}

// Two ends of a stream transport over a socketpair; `raw` writes bytes as a hostile peer would.
struct StreamPair {
  StreamPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    receiver.emplace(UniqueFd(fds[0]), 1024);
    raw = UniqueFd(fds[1]);
  }
  void write(const Bytes& bytes) { ASSERT_EQ(::write(raw.get(), bytes.data(), bytes.size()), ssize_t(bytes.size())); }
  std::optional<StreamChannel> receiver;
  UniqueFd raw;
};

// Over the limit, or naming the ring (at any declared length): drained and refused, and the next message is read.
TEST(StreamChannel, RefusedMessagesAreDrainedAndTheStreamStaysInStep) {
  StreamPair pair;
  pair.write(encode_datagram(MsgType::health, Bytes(1025, 1), false));
  pair.write(encode_datagram(MsgType::frame_list, Bytes(2000, 2), true));
  pair.write(encode_datagram(MsgType::get_evidence, Bytes(32, 3), false));
  auto over = pair.receiver->receive(1000);
  ASSERT_FALSE(over);
  EXPECT_NE(over.error().message.find("exceeds the 1024-byte limit"), std::string::npos) << over.error().message;
  auto ring = pair.receiver->receive(1000);
  ASSERT_FALSE(ring);
  EXPECT_NE(ring.error().message.find("inline"), std::string::npos) << ring.error().message;
  auto next = pair.receiver->receive(1000);
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->type, MsgType::get_evidence);
  EXPECT_EQ(next->payload, Bytes(32, 3));
}

// A message that stops mid-way (a stall past the deadline, or the peer closing) loses the framing: that receive
// fails and every later one says the channel is closed.
TEST(StreamChannel, AMessageCutShortEndsTheStream) {
  const Bytes message = encode_datagram(MsgType::health, Bytes(100, 1), false);
  {
    StreamPair pair;
    pair.write(Bytes(message.begin(), message.begin() + 30));
    auto stalled = pair.receiver->receive(100);
    ASSERT_FALSE(stalled);
    EXPECT_EQ(stalled.error().code, Errc::protocol);
    EXPECT_NE(stalled.error().message.find("lost its framing"), std::string::npos) << stalled.error().message;
    pair.write(Bytes(message.begin() + 30, message.end()));   // the rest arrives too late to be trusted
    auto after = pair.receiver->receive(100);
    ASSERT_FALSE(after);
    EXPECT_EQ(after.error().code, Errc::closed);
  }
  StreamPair pair;
  pair.write(Bytes(message.begin(), message.begin() + 30));
  pair.raw.reset();
  auto cut = pair.receiver->receive(1000);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().code, Errc::closed) << cut.error().message;
}

// Nothing on the wire before the deadline is a plain timeout: the stream is still in step.
TEST(StreamChannel, ATimeoutBeforeAMessageKeepsTheStream) {
  StreamPair pair;
  auto quiet = pair.receiver->receive(50);
  ASSERT_FALSE(quiet);
  EXPECT_EQ(quiet.error().code, Errc::timeout);
  pair.write(encode_datagram(MsgType::health, {}, false));
  auto next = pair.receiver->receive(1000);
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_EQ(next->type, MsgType::health);
}

// A send that misses its deadline gives up, whether the peer stopped reading or reads a trickle (which would
// restart a socket's own send timeout with every byte), and the stream takes no more sends: part of a message may
// be on the wire.
TEST(StreamChannel, ASendThatMissesItsDeadlineEndsTheStream) {
  for (const bool trickle : {false, true}) {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    UniqueFd reader(fds[1]);
    std::atomic<bool> done{false};
    std::thread slow([&] {
      uint8_t byte;
      while (trickle && !done && ::read(reader.get(), &byte, 1) == 1) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    });
    StreamChannel sender(UniqueFd(fds[0]), std::size_t(16) << 20, std::chrono::milliseconds(200));
    auto stuck = sender.send(MsgType::frame_list, Bytes(std::size_t(16) << 20, 7));
    done = true;
    ASSERT_FALSE(stuck) << "trickle " << trickle;
    EXPECT_EQ(stuck.error().code, Errc::timeout) << stuck.error().message;
    auto after = sender.send(MsgType::health, {});
    ASSERT_FALSE(after);
    EXPECT_EQ(after.error().code, Errc::closed);
    slow.join();   // its next read finds the bytes that went out, then it sees `done`
  }
}

// An enclave whose host is not listening gives up with the endpoint named, after its timeout.
TEST(Boundary, ConnectingWhereNobodyListensNamesTheEndpoint) {
  auto listener = listen_on(parse_endpoint("tcp:127.0.0.1:0").value());
  ASSERT_TRUE(listener) << listener.error().message;
  const SocketEndpoint closed = listener->endpoint;
  ASSERT_NE(closed.port, 0);
  listener->socket.reset();
  auto connected = connect_endpoint(closed, std::chrono::milliseconds(200));
  ASSERT_FALSE(connected);
  EXPECT_EQ(connected.error().code, Errc::io);
  EXPECT_NE(connected.error().message.find(closed.text()), std::string::npos) << connected.error().message;
}

}  // namespace
}  // namespace sg::tee
