// A real enclave process (sg_enclave_test_host, the same code as `sliceguard enclave`) behind the host
// library, over each transport (the shared ring, and the loopback TCP stream): it starts and reports ready and healthy, its evidence verifies on the host side, sealed frames
// round-trip through it while the host sees only ciphertext, it rejects what a malicious host sends and keeps
// serving, its death is reported clearly, and it restarts.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <thread>

#include "crypto/tensor_payload.h"
#include "tee/attestation_sim.h"
#include "tee/host_enclave_process.h"
#include "tee/key_release.h"
#include "tee/shm_ring.h"
#include "support/temp_dir.h"
#include "tee/verifier.h"

namespace sg::tee {
namespace {

class EnclaveProcessTest : public ::testing::TestWithParam<BoundaryTransport> {
 protected:
  void SetUp() override {
    key_path_ = dir_.path() + "/platform.key";
    config_path_ = write_config("enclave.json", "");
    start(config_path_);
  }

  std::string write_config(const std::string& name, const std::string& extra) {
    return dir_.file(name, R"({"sim_platform_key": ")" + key_path_ + "\"" + extra + "}");
  }

  void start(const std::string& config) {
    EnclaveLaunch launch;
    launch.executable = SG_ENCLAVE_TEST_HOST;
    launch.args = {"enclave", "--backend", "sim", "--config", config};
    launch.transport = GetParam();
    launch.ring_bytes = 16 << 20;
    auto started = EnclaveProcess::start(launch);
    ASSERT_TRUE(started) << started.error().message;
    enclave_ = std::move(*started);
  }

  // What a verifier would configure: this binary + config, this platform key.
  Policy policy_for(const std::string& config) const {
    std::ifstream pub(key_path_ + ".pub");
    std::string pub_hex;
    pub >> pub_hex;
    std::ifstream in(config, std::ios::binary);
    const Bytes config_bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const Bytes measurement = sim_measurement(SG_ENCLAVE_TEST_HOST, config_bytes).value();
    const crypto::Digest32 config_digest = config_digest_of(config_bytes);   // the file's SHA-256, as a tsm policy pins it
    return Policy::parse(R"({"allowed_backends": ["sim"], "allow_sim": true, "allowed_measurements": [")" +
                             crypto::to_hex(measurement) + R"("], "allowed_configs": [")" +
                             crypto::to_hex(ByteView(config_digest.data(), config_digest.size())) +
                             R"("], "sim_platform_keys": [")" + pub_hex + R"("]})",
                         "client-policy.json")
        .value();
  }

  // The client side of Method 2's handshake: fresh nonce, verify evidence, open a session with the attested key.
  crypto::AeadChannel attest_and_open_session() {
    const Bytes nonce = crypto::SecretKey::random(kEvidenceNonceBytes).view().to_bytes();
    auto reply = enclave_->get_evidence(nonce);
    EXPECT_TRUE(reply) << reply.error().message;
    auto evidence = parse_evidence(reply->evidence);
    EXPECT_TRUE(evidence) << evidence.error().message;
    auto verified = verify_evidence(*evidence, policy_for(config_path_), nonce, reply->enclave_key);
    EXPECT_TRUE(verified) << verified.error().message;
    const crypto::KxKeyPair client = crypto::KxKeyPair::generate();
    auto session = enclave_->open_session(client.public_key);
    EXPECT_TRUE(session) << session.error().message;
    return crypto::AeadChannel(crypto::derive_session_keys(crypto::Role::client, client, reply->enclave_key).value());
  }

  void expect_rejected(const Status& status, const std::string& needle) {
    ASSERT_FALSE(status);
    EXPECT_EQ(status.error().code, Errc::rejected) << status.error().message;
    EXPECT_NE(status.error().message.find(needle), std::string::npos) << status.error().message;
  }

  void expect_still_healthy() {
    auto health = enclave_->health();
    EXPECT_TRUE(health) << health.error().message;
  }

  void expect_refused_next_part() {
    ASSERT_TRUE(enclave_->channel().send(MsgType::next_part, {}));
    auto refused = enclave_->channel().receive(5000);
    ASSERT_TRUE(refused) << refused.error().message;
    EXPECT_EQ(refused->type, MsgType::error);
  }

  bool on_ring() const { return GetParam() == BoundaryTransport::ring; }

  test_support::TempDir dir_;
  std::string key_path_, config_path_;
  std::unique_ptr<EnclaveProcess> enclave_;
};

template <class T>
Status status_of(const Result<T>& r) {
  if (r) return {};
  return crypto::unexpected(r.error());
}

// A reply larger than the ring (8 MiB each way here) comes in parts and arrives whole, in order.
TEST_P(EnclaveProcessTest, ReplyLargerThanTheRingArrivesInParts) {
  crypto::AeadChannel client = attest_and_open_session();
  Bytes payload(1 << 20);
  for (std::size_t i = 0; i < payload.size(); ++i) payload[i] = uint8_t(i * 131 + 7);
  payload[0] = 20;   // 20 copies: 20 MiB of reply frames
  Bytes frame;
  ASSERT_TRUE(client.seal_frame(crypto::PayloadKind::message, payload, frame));
  auto replies = enclave_->exchange_frame(frame);
  ASSERT_TRUE(replies) << replies.error().message;
  ASSERT_EQ(replies->frames.size(), 20u);
  for (const ByteView reply : replies->frames) {
    auto opened = client.open_frame(reply);   // strict counters: any loss or reordering fails here
    ASSERT_TRUE(opened) << opened.error().message;
    EXPECT_EQ(opened->payload, payload);
  }
  // The enclave serves on, and a stray next_part is refused.
  Bytes echo;
  ASSERT_TRUE(client.seal_frame(crypto::PayloadKind::echo, Bytes(10, 3), echo));
  auto echoed = enclave_->exchange_frame(echo);
  ASSERT_TRUE(echoed) << echoed.error().message;
  ASSERT_EQ(echoed->frames.size(), 1u);
  ASSERT_TRUE(client.open_frame(echoed->frames.front()));
  expect_refused_next_part();
  expect_still_healthy();
}

// A host that asks something else in the middle of a reply in parts forfeits the rest of it.
TEST_P(EnclaveProcessTest, ReplyInPartsIsDroppedWhenTheHostMovesOn) {
  crypto::AeadChannel client = attest_and_open_session();
  Bytes payload(1 << 20, 5);
  payload[0] = 20;
  Bytes frame;
  ASSERT_TRUE(client.seal_frame(crypto::PayloadKind::message, payload, frame));
  ASSERT_TRUE(enclave_->channel().send(MsgType::frame_list, encode_frame_list({frame})));
  auto first = enclave_->channel().receive(5000);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->type, MsgType::frames_more);
  expect_still_healthy();
  expect_refused_next_part();
}

// A single frame larger than the ring cannot be sent: the host gets an error naming the sizes, and the enclave
// serves on (it used to exit).
TEST_P(EnclaveProcessTest, FrameLargerThanTheRingIsRefusedAndTheEnclaveServesOn) {
  crypto::AeadChannel client = attest_and_open_session();
  Bytes payload(1 << 20, 9);
  payload[0] = 9;   // one 9 MiB echo frame, over the 8 MiB ring
  payload[1] = 1;
  Bytes frame;
  ASSERT_TRUE(client.seal_frame(crypto::PayloadKind::message, payload, frame));
  auto refused = enclave_->exchange_frame(frame);
  ASSERT_FALSE(refused);
  const std::string limit = on_ring() ? "exceeds the shared ring (8388608 bytes each way)"
                                      : "exceeds the 8388608-byte limit of the stream";
  EXPECT_NE(refused.error().message.find(limit), std::string::npos) << refused.error().message;
  expect_still_healthy();
}

TEST_P(EnclaveProcessTest, StartsReadyAndHealthy) {
  EXPECT_GT(enclave_->pid(), 0);
  EXPECT_EQ(enclave_->hello().backend, "sim");
  auto health = enclave_->health();
  ASSERT_TRUE(health) << health.error().message;
  EXPECT_EQ(health->sessions, 0u);
}

TEST_P(EnclaveProcessTest, EvidenceVerifiesOnTheHostAndBindsTheNonce) {
  const Bytes nonce(32, 0x5a);
  auto reply = enclave_->get_evidence(nonce);
  ASSERT_TRUE(reply) << reply.error().message;
  auto evidence = parse_evidence(reply->evidence);
  ASSERT_TRUE(evidence) << evidence.error().message;
  const Policy policy = policy_for(config_path_);
  EXPECT_TRUE(verify_evidence(*evidence, policy, nonce, reply->enclave_key));
  EXPECT_FALSE(verify_evidence(*evidence, policy, Bytes(32, 0x5b), reply->enclave_key));
  // A policy written for another config (another measurement) refuses this enclave.
  auto other = verify_evidence(*evidence, policy_for(write_config("other.json", R"(, "tsm_report_root": "/y")")), nonce,
                               reply->enclave_key);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, Errc::policy);
}

TEST_P(EnclaveProcessTest, TensorRoundTripsThroughEnclaveAndHostSeesNoPlaintext) {
  crypto::AeadChannel client = attest_and_open_session();
  const crypto::TensorMeta meta{"cut_layer.activations", "F32", {2, 128, 1024}};
  Bytes activations(2 * 128 * 1024 * 4);
  for (std::size_t i = 0; i < activations.size(); ++i) activations[i] = uint8_t((i * 2654435761u) >> 11);

  std::vector<Bytes> host_saw;   // every byte string the host relayed, both ways
  crypto::TensorAssembler assembler;
  std::optional<crypto::Tensor> echoed;
  crypto::TensorSender sender;
  auto sent = sender.send(client, crypto::PayloadKind::echo, meta, activations, [&](ByteView frame) -> crypto::Status {
    host_saw.push_back(frame.to_bytes());
    auto replies = enclave_->exchange_frame(frame);
    if (!replies) return crypto::fail(crypto::Errc::malformed, replies.error().message);
    for (const ByteView reply : replies->frames) {
      host_saw.push_back(reply.to_bytes());
      auto opened = client.open_frame(reply);
      if (!opened) return crypto::unexpected(opened.error());
      auto tensor = assembler.add(opened->payload);
      if (!tensor) return crypto::unexpected(tensor.error());
      if (*tensor) echoed = std::move(*tensor);
    }
    return {};
  });
  ASSERT_TRUE(sent) << sent.error().message;
  ASSERT_TRUE(echoed.has_value());
  EXPECT_EQ(echoed->data, activations);
  EXPECT_EQ(echoed->meta.name, meta.name);

  // No 32-byte window of the tensor appears in anything the host relayed or can read in shared memory.
  const ByteView shm = enclave_->channel().shared_memory();
  host_saw.push_back(shm.to_bytes());
  for (std::size_t offset = 0; offset + 32 <= activations.size(); offset += activations.size() / 64) {
    const auto window = activations.begin() + long(offset);
    for (const Bytes& seen : host_saw) {
      ASSERT_EQ(std::search(seen.begin(), seen.end(), window, window + 32), seen.end()) << "plaintext at " << offset;
    }
  }
  auto health = enclave_->health();
  ASSERT_TRUE(health);
  EXPECT_EQ(health->sessions, 1u);
}

TEST_P(EnclaveProcessTest, FrameReplayedOrForgedByHostRejected) {
  crypto::AeadChannel client = attest_and_open_session();
  Bytes frame;
  ASSERT_TRUE(client.seal_frame(crypto::PayloadKind::echo, Bytes(100, 1), frame));
  ASSERT_TRUE(enclave_->exchange_frame(frame));
  expect_rejected(status_of(enclave_->exchange_frame(frame)), "already used");
  Bytes next;
  ASSERT_TRUE(client.seal_frame(crypto::PayloadKind::echo, Bytes(100, 2), next));
  Bytes forged = next;
  forged[crypto::kFrameHeaderBytes] ^= 1;
  expect_rejected(status_of(enclave_->exchange_frame(forged)), "failed authentication");
  EXPECT_TRUE(enclave_->exchange_frame(next));   // the genuine frame still goes through
  Bytes stranger = next;
  stranger[20] ^= 1;   // unknown session id
  expect_rejected(status_of(enclave_->exchange_frame(stranger)), "unknown session");
}

// A frame list is one session's consecutive frames, opened all or nothing: a forged frame anywhere in it, a
// replayed list, another session's frame or an empty list is refused, and the genuine list still goes through.
TEST_P(EnclaveProcessTest, FrameListOpensAllOrNothing) {
  crypto::AeadChannel client = attest_and_open_session();
  std::vector<Bytes> frames(4);
  for (std::size_t i = 0; i < frames.size(); ++i)
    ASSERT_TRUE(client.seal_frame(crypto::PayloadKind::echo, Bytes(3000, uint8_t(i)), frames[i]));
  auto forged = frames;
  forged[2][crypto::kFrameHeaderBytes + 1] ^= 1;
  expect_rejected(status_of(enclave_->exchange_frame_lists({encode_frame_list(forged)})), "frame 3 of 4");
  auto replies = enclave_->exchange_frame_lists({encode_frame_list(frames)});
  ASSERT_TRUE(replies) << replies.error().message;
  ASSERT_EQ(replies->frames.size(), frames.size());
  auto echoed = client.open_frames({replies->frames.begin(), replies->frames.end()});
  ASSERT_TRUE(echoed) << echoed.error().message;
  for (std::size_t i = 0; i < frames.size(); ++i) EXPECT_EQ((*echoed)[i].payload, Bytes(3000, uint8_t(i)));
  expect_rejected(status_of(enclave_->exchange_frame_lists({encode_frame_list(frames)})), "already used");

  crypto::AeadChannel other = attest_and_open_session();
  Bytes mine, theirs;
  ASSERT_TRUE(client.seal_frame(crypto::PayloadKind::echo, Bytes(10, 1), mine));
  ASSERT_TRUE(other.seal_frame(crypto::PayloadKind::echo, Bytes(10, 2), theirs));
  expect_rejected(status_of(enclave_->exchange_frame_lists({encode_frame_list({mine, theirs})})), "belongs to session");
  expect_rejected(status_of(enclave_->exchange_frame_lists({encode_frame_list({})})), "no frames");
  EXPECT_TRUE(enclave_->exchange_frame_lists({encode_frame_list({mine})}));   // nothing of the refused list was taken
  expect_still_healthy();
}

TEST_P(EnclaveProcessTest, ReopeningALiveSessionRejected) {
  const crypto::KxKeyPair client = crypto::KxKeyPair::generate();
  ASSERT_TRUE(enclave_->open_session(client.public_key));
  // Re-opening would reset the session's counters and let the host replay old frames.
  expect_rejected(status_of(enclave_->open_session(client.public_key)), "already open");
}

// Over the ring's inline limit (32 KiB) or the stream's payload limit (8 MiB here): the stream drains it and stays
// in step.
TEST_P(EnclaveProcessTest, OversizeMessageRejectedAndEnclaveKeepsServing) {
  const Bytes huge = encode_datagram(MsgType::health, Bytes(on_ring() ? 100 * 1024 : (8 << 20) + 1), false);
  ASSERT_TRUE(enclave_->channel().send_raw(huge));
  auto reply = enclave_->channel().receive(10000);
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->type, MsgType::error);
  EXPECT_NE(std::string(reply->payload.begin(), reply->payload.end()).find("exceeds"), std::string::npos);
  expect_still_healthy();
}

TEST_P(EnclaveProcessTest, UnknownMessageTypeRejected) {
  ASSERT_TRUE(enclave_->channel().send_raw(encode_datagram(MsgType(0x7777), {}, false)));
  auto reply = enclave_->channel().receive(10000);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->type, MsgType::error);
  EXPECT_EQ(std::string(reply->payload.begin(), reply->payload.end()), "unknown message type 0x7777");
  expect_still_healthy();
}

// Frames reach the enclave only in frame lists, opened all or nothing: the bare-frame message (0x104) that came
// before them is an unknown type now, and a frame sent under it is not opened (its counter stays unspent).
TEST_P(EnclaveProcessTest, RetiredBareFrameMessageIsUnknownAndOpensNothing) {
  crypto::AeadChannel client = attest_and_open_session();
  Bytes echo;
  ASSERT_TRUE(client.seal_frame(crypto::PayloadKind::echo, Bytes(10, 3), echo));
  ASSERT_TRUE(enclave_->channel().send_raw(encode_datagram(MsgType(0x104), echo, false)));
  auto reply = enclave_->channel().receive(10000);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->type, MsgType::error);
  EXPECT_EQ(std::string(reply->payload.begin(), reply->payload.end()), "unknown message type 0x0104");
  auto echoed = enclave_->exchange_frame(echo);
  ASSERT_TRUE(echoed) << echoed.error().message;
  ASSERT_EQ(echoed->frames.size(), 1u);
  EXPECT_TRUE(client.open_frame(echoed->frames.front()));
  expect_still_healthy();
}

// On the stream there is no ring: any ring reference is refused.
TEST_P(EnclaveProcessTest, RingReferenceOutsideTheRingRejected) {
  const Bytes slice = encode(RingSlice{(16 << 20) - 8, 64});
  ASSERT_TRUE(enclave_->channel().send_raw(encode_datagram(MsgType::frame_list, slice, true)));
  auto reply = enclave_->channel().receive(10000);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->type, MsgType::error);
  EXPECT_NE(std::string(reply->payload.begin(), reply->payload.end()).find(on_ring() ? "outside" : "inline"),
            std::string::npos);
  expect_still_healthy();
}

// A message the host writes in pieces, with pauses, is read whole; a header that is not ours ends the stream (its
// framing cannot be trusted after it) with the reason, and the host library reports the enclave's exit.
class StreamEnclaveTest : public EnclaveProcessTest {};

TEST_P(StreamEnclaveTest, ReadsMessagesInPiecesAndEndsOnAForeignHeader) {
  const Bytes evidence_request = encode_datagram(MsgType::get_evidence, Bytes(kEvidenceNonceBytes, 7), false);
  for (std::size_t at = 0; at < evidence_request.size(); at += 5) {
    ASSERT_TRUE(enclave_->channel().send_raw(
        ByteView(evidence_request.data() + at, std::min<std::size_t>(5, evidence_request.size() - at))));
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto evidence = enclave_->channel().receive(10000);
  ASSERT_TRUE(evidence) << evidence.error().message;
  EXPECT_EQ(evidence->type, MsgType::evidence);

  Bytes foreign = encode_datagram(MsgType::health, {}, false);
  foreign[0] = 'X';
  ASSERT_TRUE(enclave_->channel().send_raw(foreign));
  auto reply = enclave_->channel().receive(10000);
  ASSERT_TRUE(reply) << reply.error().message;
  EXPECT_EQ(reply->type, MsgType::error);
  EXPECT_NE(std::string(reply->payload.begin(), reply->payload.end()).find("lost its framing"), std::string::npos);
  auto health = enclave_->health();
  ASSERT_FALSE(health);
  EXPECT_EQ(health.error().code, Errc::enclave_exited) << health.error().message;
}

TEST_P(EnclaveProcessTest, MalformedRequestPayloadsRejected) {
  expect_rejected(status_of(enclave_->get_evidence(Bytes(5))), "32-byte nonce");
  expect_rejected(status_of(enclave_->exchange_frame(Bytes(3))), "shorter than header");
  expect_rejected(enclave_->unseal_state(Bytes(100, 2)), "does not open");   // version byte 2, the rest garbage
  expect_still_healthy();
}

TEST_P(EnclaveProcessTest, KilledEnclaveReportedClearly) {
  const pid_t pid = enclave_->pid();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  auto health = enclave_->health();
  ASSERT_FALSE(health);
  EXPECT_EQ(health.error().code, Errc::enclave_exited);
  EXPECT_NE(health.error().message.find("enclave process " + std::to_string(pid) + " exited with signal 9"),
            std::string::npos)
      << health.error().message;
  EXPECT_FALSE(enclave_->running());
  // Later calls keep saying why.
  auto again = enclave_->get_evidence(Bytes(32));
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("signal 9"), std::string::npos);
}

TEST_P(EnclaveProcessTest, RestartAfterCrashGivesAFreshEnclave) {
  const pid_t old_pid = enclave_->pid();
  const auto old_key = enclave_->get_evidence(Bytes(32)).value().enclave_key;
  ::kill(old_pid, SIGKILL);
  ASSERT_TRUE(enclave_->restart());
  EXPECT_NE(enclave_->pid(), old_pid);
  expect_still_healthy();
  EXPECT_NE(enclave_->get_evidence(Bytes(32)).value().enclave_key, old_key);   // new ephemeral key
}

TEST_P(EnclaveProcessTest, GracefulStop) {
  ASSERT_TRUE(enclave_->stop());
  EXPECT_FALSE(enclave_->running());
  auto health = enclave_->health();
  ASSERT_FALSE(health);
  EXPECT_NE(health.error().message.find("was stopped"), std::string::npos) << health.error().message;
}

// The release a key broker makes for `enclave` after verifying its evidence (with the broker's own nonce) against
// `policy`: what a host fetches from the broker before the enclave seals or unseals.
Result<Bytes> release_for(EnclaveProcess& enclave, const KeyBroker& broker, const Policy& policy) {
  const Bytes nonce = crypto::SecretKey::random(kEvidenceNonceBytes).view().to_bytes();
  auto reply = enclave.get_evidence(nonce);
  if (!reply) return crypto::unexpected(reply.error());
  auto evidence = parse_evidence(reply->evidence);
  if (!evidence) return crypto::unexpected(evidence.error());
  return broker.release(*evidence, nonce, reply->enclave_key, policy);
}

// An enclave whose config pins a key broker seals only with the key that broker releases after verifying it. A
// release opens only in the enclave instance it was made for (another broker's, a tampered one, or one made for
// the instance before a restart are refused), and the same build and job get the same key after a restart.
TEST_P(EnclaveProcessTest, AnEnclaveThatPinsAKeyBrokerSealsOnlyWithItsRelease) {
  expect_rejected(enclave_->install_key(Bytes(64, 1)), "pins no key_broker");
  const crypto::SigningKeyPair broker_identity = crypto::SigningKeyPair::generate();
  const KeyBroker broker(crypto::SigningKeyPair::from_seed(broker_identity.seed()), crypto::SecretKey::random(32));
  const KeyBroker stranger(crypto::SigningKeyPair::generate(), crypto::SecretKey::random(32));
  ASSERT_TRUE(enclave_->stop());
  const std::string config =
      write_config("brokered.json", R"(, "key_broker": ")" + crypto::to_hex(broker.public_key()) + "\"");
  start(config);
  const Policy policy = policy_for(config);
  expect_rejected(status_of(enclave_->seal_state()), "none was installed");

  auto refused = release_for(*enclave_, broker, policy_for(config_path_));   // the broker's policy admits another
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::policy) << refused.error().message;
  expect_rejected(enclave_->install_key(release_for(*enclave_, stranger, policy).value()),
                  "not signed by this enclave's key broker");
  const Bytes release = release_for(*enclave_, broker, policy).value();
  Bytes tampered = release;
  tampered[tampered.size() / 2] ^= 1;
  expect_rejected(enclave_->install_key(tampered), "not signed by this enclave's key broker");
  ASSERT_TRUE(enclave_->install_key(release));
  expect_rejected(enclave_->install_key(release), "already installed");
  auto blob = enclave_->seal_state();
  ASSERT_TRUE(blob) << blob.error().message;

  ASSERT_TRUE(enclave_->restart());
  expect_rejected(enclave_->unseal_state(*blob), "none was installed");
  expect_rejected(enclave_->install_key(release), "made for another enclave key");
  // The same broker identity with another master secret releases another key: the state does not open with it,
  // so it is the released key that seals (not the platform's).
  const KeyBroker other_master(crypto::SigningKeyPair::from_seed(broker_identity.seed()), crypto::SecretKey::random(32));
  ASSERT_TRUE(enclave_->install_key(release_for(*enclave_, other_master, policy).value()));
  expect_rejected(enclave_->unseal_state(*blob), "does not open");
  ASSERT_TRUE(enclave_->restart());
  ASSERT_TRUE(enclave_->install_key(release_for(*enclave_, broker, policy).value()));
  EXPECT_TRUE(enclave_->unseal_state(*blob));
}

TEST_P(EnclaveProcessTest, SealedStateSurvivesRestartButNotAnotherMeasurement) {
  auto blob = enclave_->seal_state();
  ASSERT_TRUE(blob) << blob.error().message;
  ASSERT_TRUE(enclave_->restart());
  EXPECT_TRUE(enclave_->unseal_state(*blob));
  Bytes tampered = *blob;
  tampered[tampered.size() / 2] ^= 1;
  expect_rejected(enclave_->unseal_state(tampered), "does not open");

  ASSERT_TRUE(enclave_->stop());
  start(write_config("other.json", R"(, "tsm_report_root": "/elsewhere")"));
  expect_rejected(enclave_->unseal_state(*blob), "sealed by another enclave measurement");
}

// The host cannot swap the state of a running enclave (rewinding a round to replay it with other inputs):
// once a session has opened, unseal_state is refused and the state stays; at the next start it is accepted.
TEST_P(EnclaveProcessTest, UnsealIntoARunningEnclaveIsRefused) {
  auto blob = enclave_->seal_state();
  ASSERT_TRUE(blob) << blob.error().message;
  crypto::AeadChannel client = attest_and_open_session();
  expect_rejected(enclave_->unseal_state(*blob), "refused once a session has opened");
  expect_still_healthy();
  ASSERT_TRUE(enclave_->restart());
  EXPECT_TRUE(enclave_->unseal_state(*blob));
}

// Sends one `message` frame to the test host's service and returns its echo replies' payloads, joined.
Bytes ask_test_service(EnclaveProcess& enclave, crypto::AeadChannel& client, const Bytes& request) {
  Bytes frame;
  EXPECT_TRUE(client.seal_frame(crypto::PayloadKind::message, request, frame));
  auto replies = enclave.exchange_frame(frame);
  EXPECT_TRUE(replies) << replies.error().message;
  Bytes joined;
  for (const ByteView reply : replies ? replies->frames : std::vector<crypto::MutableByteView>{}) {
    auto opened = client.open_frame(reply);
    EXPECT_TRUE(opened) << opened.error().message;
    if (opened) joined.insert(joined.end(), opened->payload.begin(), opened->payload.end());
  }
  return joined;
}

// Trusted state larger than the ring (8 MiB each way here) is sealed, and unsealed after a restart, in parts.
TEST_P(EnclaveProcessTest, SealedStateLargerThanTheRingSurvivesRestartInParts) {
  crypto::AeadChannel client = attest_and_open_session();
  ask_test_service(*enclave_, client, {20, 2, 7});   // 20 MiB of state
  auto blob = enclave_->seal_state();
  ASSERT_TRUE(blob) << blob.error().message;
  EXPECT_GT(blob->size(), std::size_t(20) << 20);

  ASSERT_TRUE(enclave_->restart());
  ASSERT_TRUE(enclave_->unseal_state(*blob));
  crypto::AeadChannel after = attest_and_open_session();
  const Bytes state = ask_test_service(*enclave_, after, {0, 3});
  ASSERT_EQ(state.size(), std::size_t(20) << 20);
  for (std::size_t i = 0; i < state.size(); i += 4099) ASSERT_EQ(state[i], uint8_t(i * 131 + 7)) << "byte " << i;
  expect_still_healthy();
}

// A host that moves on in the middle of sealed state in parts forfeits the parts, either way: the rest of the
// enclave's reply (a stray next_part is refused), or what it had sent of a blob (never joined to what follows).
TEST_P(EnclaveProcessTest, SealedStatePartsAreDroppedWhenTheHostMovesOn) {
  crypto::AeadChannel client = attest_and_open_session();
  ask_test_service(*enclave_, client, {12, 2, 1});
  ASSERT_TRUE(enclave_->channel().send(MsgType::seal_state, {}));
  auto first = enclave_->channel().receive(10000);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->type, MsgType::sealed_state_more);
  expect_still_healthy();
  expect_refused_next_part();

  auto blob = enclave_->seal_state();
  ASSERT_TRUE(blob) << blob.error().message;
  ASSERT_TRUE(enclave_->restart());   // sealed state is restored at start only, before any session
  const std::size_t part = enclave_->max_frame_list_bytes();
  ASSERT_GT(blob->size(), part);
  auto send_first_part = [&] {
    ASSERT_TRUE(enclave_->channel().send(MsgType::unseal_state_more, ByteView(blob->data(), part)));
    auto ok = enclave_->channel().receive(10000);
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->type, MsgType::ok);
  };
  const ByteView rest(blob->data() + part, blob->size() - part);
  send_first_part();
  expect_still_healthy();
  expect_rejected(enclave_->unseal_state(rest), "sealed blob");
  send_first_part();   // a refused (empty) part drops the parts before it too
  ASSERT_TRUE(enclave_->channel().send(MsgType::unseal_state_more, {}));
  auto refused = enclave_->channel().receive(10000);
  ASSERT_TRUE(refused) << refused.error().message;
  EXPECT_EQ(refused->type, MsgType::error);
  expect_rejected(enclave_->unseal_state(rest), "sealed blob");
  EXPECT_TRUE(enclave_->unseal_state(*blob));   // the whole blob, sent again, opens
}

INSTANTIATE_TEST_SUITE_P(Transport, EnclaveProcessTest,
                         ::testing::Values(BoundaryTransport::ring, BoundaryTransport::tcp),
                         [](const ::testing::TestParamInfo<BoundaryTransport>& info) {
                           return info.param == BoundaryTransport::ring ? "ring" : "tcp";
                         });
INSTANTIATE_TEST_SUITE_P(Transport, StreamEnclaveTest, ::testing::Values(BoundaryTransport::tcp),
                         [](const auto&) { return "tcp"; });

TEST(EnclaveLaunchFailure, EnclaveThatExitsBeforeReadyReported) {
  for (const BoundaryTransport transport : {BoundaryTransport::ring, BoundaryTransport::tcp}) {
    EnclaveLaunch launch;
    launch.executable = SG_ENCLAVE_TEST_HOST;
    launch.args = {"enclave", "--backend", "sim", "--config", "/nonexistent/enclave.json"};
    launch.transport = transport;
    auto started = EnclaveProcess::start(launch);
    ASSERT_FALSE(started);
    EXPECT_EQ(started.error().code, Errc::enclave_exited);
    const char* when = transport == BoundaryTransport::ring ? "before it was ready" : "before it connected";
    EXPECT_NE(started.error().message.find(when), std::string::npos) << started.error().message;
  }
}

}  // namespace
}  // namespace sg::tee
