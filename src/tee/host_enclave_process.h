// EnclaveProcess: the host's handle on an enclave — a child process launched with fork/exec, reached only
// through a BoundaryChannel: the shared ring (control socket + shared memory), or a stream socket the enclave
// connects back to (loopback TCP, as under Gramine). The host relays opaque bytes: evidence for a verifier,
// sealed frames between a peer and the enclave, sealed state for disk. It never holds enclave keys or the
// plaintext of protected data.
//
// Lifecycle: start() waits for the enclave's hello (ready); health() round-trips; stop() asks politely and
// kills after a grace period; when the enclave dies (crash, kill -9, OOM) the next call fails with
// Errc::enclave_exited and a message like "enclave process 1234 exited with signal 9 (Killed)"; restart()
// launches a fresh enclave (new ephemeral key: sessions must be re-opened, sealed state unsealed).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tee/boundary_channel.h"

namespace sg::tee {

enum class BoundaryTransport { ring, tcp };
// "ring" or "tcp"; nullopt for anything else.
[[nodiscard]] std::optional<BoundaryTransport> parse_boundary_transport(const std::string& name);

struct EnclaveLaunch {
  std::string executable;          // `sliceguard`, or the test enclave host
  std::vector<std::string> args;   // e.g. {"enclave", "--backend", "sim", "--config", "enclave.json"}
  // ring: socketpair + shared memory (fds 3 and 4 in the enclave). tcp: the host listens on `listen` and the
  // enclave connects to it (`--connect ENDPOINT --max-payload N` are appended to its arguments); nothing is shared
  // but the socket.
  BoundaryTransport transport = BoundaryTransport::ring;
  // tcp: where the host listens; port 0 takes a free one. A Gramine enclave's arguments are fixed in its manifest,
  // so there the port is fixed too and this names it.
  std::string listen = "tcp:127.0.0.1:0";
  // Both directions together; on tcp, half of it is the largest payload of one message.
  std::size_t ring_bytes = std::size_t(64) << 20;
  std::chrono::milliseconds ready_timeout{10000};
  std::chrono::milliseconds reply_timeout{60000};
  std::chrono::milliseconds stop_timeout{5000};
};

// The enclave's sealed reply frames, as views into the frame lists that carried them (mutable: the host owns
// the lists and may open the frames in place).
// Move-only: a copy's views would point into the original's lists.
struct SealedFrames {
  SealedFrames() = default;
  SealedFrames(SealedFrames&&) = default;
  SealedFrames& operator=(SealedFrames&&) = default;
  SealedFrames(const SealedFrames&) = delete;
  SealedFrames& operator=(const SealedFrames&) = delete;

  std::vector<Bytes> lists;
  std::vector<crypto::MutableByteView> frames;
};

class EnclaveProcess {
 public:
  [[nodiscard]] static Result<std::unique_ptr<EnclaveProcess>> start(EnclaveLaunch launch);
  ~EnclaveProcess();   // stops the enclave if it still runs
  EnclaveProcess(const EnclaveProcess&) = delete;
  EnclaveProcess& operator=(const EnclaveProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  const Hello& hello() const { return hello_; }

  [[nodiscard]] Result<HealthReport> health();
  // `nonce` must be kEvidenceNonceBytes, fresh per verification.
  [[nodiscard]] Result<EvidenceReply> get_evidence(ByteView nonce);
  // `peer_attestation`: what an enclave that admits only attested peers checks (EnclaveRuntime::admit_peers).
  [[nodiscard]] Result<crypto::SessionId> open_session(const crypto::KxPublicKey& peer_key, ByteView peer_attestation = {});
  // Relays one sealed frame from a peer (as a list of one); returns the enclave's sealed reply frames for that peer.
  [[nodiscard]] Result<SealedFrames> exchange_frame(ByteView frame);
  // Sends consecutive frames of one session as frame lists (messages.h), each of at most max_frame_list_bytes(),
  // in order; the enclave opens each list as one batch (all or nothing) on several cores. Returns the enclave's
  // sealed replies to all of them, joined.
  [[nodiscard]] Result<SealedFrames> exchange_frame_lists(const std::vector<Bytes>& lists);
  // The largest request one message carries (the host's half of the ring).
  std::size_t max_frame_list_bytes() const { return channel_ ? channel_->max_payload() : 0; }
  // The enclave's trusted state, sealed to its measurement; a blob larger than the ring crosses in parts.
  [[nodiscard]] Result<Bytes> seal_state();
  [[nodiscard]] Status unseal_state(ByteView blob);
  // Hands the enclave a key broker's release (key_release.h), before it seals or unseals.
  [[nodiscard]] Status install_key(ByteView release);
  [[nodiscard]] Status stop();
  [[nodiscard]] Status restart();

  // The raw boundary, for tests that play a malicious host (send_raw) or inspect what the host can see.
  BoundaryChannel& channel() { return *channel_; }

 private:
  explicit EnclaveProcess(EnclaveLaunch launch) : launch_(std::move(launch)) {}
  [[nodiscard]] Status launch();
  // Forks and execs the enclave with `args` appended and `fds` placed at 3, 4, ... (everything else closed).
  [[nodiscard]] Status spawn(const std::vector<std::string>& args, const std::vector<int>& fds);
  [[nodiscard]] Status connect_ring();
  [[nodiscard]] Status connect_tcp();
  [[nodiscard]] Result<Message> request(MsgType type, ByteView payload, std::initializer_list<MsgType> reply_types);
  // Sends a frame list and appends the reply, which may come in parts, to `out`.
  [[nodiscard]] Status exchange(ByteView list, SealedFrames& out);
  // Sends a request whose reply may come in parts (`more` ... `last`, fetched with next_part) and hands each part
  // to `take`, in order.
  [[nodiscard]] Status request_in_parts(MsgType type, ByteView payload, MsgType more, MsgType last,
                                        const std::function<Status(Message& part, bool last)>& take);
  // Reaps the child (killing it if it lingers) unless its wait status is already known, and returns the error
  // that describes its exit.
  Error exited(const std::string& when, std::optional<int> status = std::nullopt);

  EnclaveLaunch launch_;
  pid_t pid_ = -1;
  std::unique_ptr<BoundaryChannel> channel_;
  Hello hello_;
  std::string last_exit_;   // how the previous enclave ended, repeated by calls made after it
};

}  // namespace sg::tee
