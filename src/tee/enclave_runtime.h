// EnclaveRuntime: everything that runs inside the enclave process. It owns the secrets — the ephemeral X25519
// key bound into evidence, the per-session AEAD keys, the sealing key, the trusted state — and answers the host
// over a BoundaryChannel. The host only ever receives evidence, session ids, sealed frames and sealed state.
//
// Dispatch is two-level and extensible: host messages by MsgType (messages()), and the decrypted payloads of
// AEAD frames by PayloadKind (frames()). Later protocols (training steps, aggregation) register frame handlers;
// the built-in `echo` handler returns a payload unchanged, an end-to-end check of a session.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "crypto/hash.h"
#include "crypto/aead_channel.h"
#include "tee/attestation.h"
#include "tee/handler_registry.h"
#include "tee/boundary_channel.h"

namespace sg::tee {

struct EnclaveSession {
  crypto::AeadChannel channel;
  Bytes peer;   // the identity admission established for it (empty where the enclave admits any peer)
  std::chrono::steady_clock::time_point last_used;
};

// Who sent a request: its session and the identity its peer proved when opening it.
struct Caller {
  crypto::SessionId session;
  ByteView peer;
};

// A plaintext the enclave wants to send to a session's peer; the runtime seals it.
struct OutgoingPayload {
  crypto::PayloadKind kind;
  Bytes payload;
};

// Handles one host request; returns the reply (an error becomes an `error` reply). The payload is the enclave's
// own copy (out of the ring), so a handler may work on it in place (frames are opened there).
using MessageHandler = std::function<Result<Message>(crypto::MutableByteView payload)>;
// Handles one authenticated, decrypted frame payload of `session`.
using FrameHandler = std::function<Result<std::vector<OutgoingPayload>>(EnclaveSession& session, ByteView plaintext)>;

// Decides whether a peer may open a session: its X25519 key, the proof it sent (attestation or identity; may be
// empty) and this enclave's own session key (the freshness a proof binds). Returns the peer's identity, which
// the session keeps (EnclaveSession::peer); an error refuses the session before anything is allocated for it.
using PeerAdmission = std::function<Result<Bytes>(const crypto::KxPublicKey& peer_key, ByteView proof,
                                                  const crypto::KxPublicKey& own_key)>;

// How many sessions stay open. A peer identity holds at most `per_peer` sessions: opening one more closes its
// least recently used one (a restarted client gets in again). When the enclave holds `max_sessions`, sessions
// idle for `idle` are closed to make room; if none is, the new session is refused.
struct SessionLimits {
  std::size_t max_sessions = 1024;
  std::size_t per_peer = 4;   // for identified peers only
  std::chrono::milliseconds idle{std::chrono::minutes(10)};
};

// The enclave's trusted state: named blobs that handlers keep and seal_state persists.
using TrustedState = std::map<std::string, Bytes>;

class EnclaveRuntime {
 public:
  // `config`: the file the enclave was started with; its digest is bound into every evidence it gives, and a
  // key_broker it pins makes the enclave seal only with that broker's released key (key_release.h).
  EnclaveRuntime(std::unique_ptr<AttestationBackend> backend, const EnclaveConfig& config);

  HandlerRegistry<MsgType, MessageHandler>& messages() { return messages_; }
  HandlerRegistry<crypto::PayloadKind, FrameHandler>& frames() { return frames_; }
  TrustedState& state() { return state_; }
  // How many times this state was sealed with a change since the seal before, across restarts (0: never). A
  // peer that remembers the value it saw can tell a rewound state (an older blob restored) from the latest.
  uint64_t state_generation() const { return state_generation_; }
  AttestationBackend& attestation() { return *backend_; }
  // Admit only peers `admission` accepts (default: any peer; the peer then attests the enclave, not vice versa).
  void admit_peers(PeerAdmission admission) { admission_ = std::move(admission); }
  void limit_sessions(SessionLimits limits) { limits_ = limits; }
  // Called with every session that closes (a close frame from its peer, eviction), so services free its state.
  void on_session_closed(std::function<void(const crypto::SessionId&)> listener) {
    closed_listeners_.push_back(std::move(listener));
  }

  // Sends hello, then answers requests until `stop` or until the host closes the channel. A malformed,
  // oversize or unknown request gets an error reply and the loop goes on.
  [[nodiscard]] Status serve(BoundaryChannel& channel);

 private:
  Result<Message> dispatch(Message& request);
  Result<Message> on_get_evidence(ByteView nonce);
  Result<Message> on_open_session(ByteView payload);
  // Makes room for a session of `peer` within the limits; false when the enclave is full of live sessions.
  bool make_room_for(const Bytes& peer);
  void close_session(const crypto::SessionId& id);
  // A frame list: consecutive frames of one session, opened as one batch (all or nothing); each
  // plaintext goes to its handler in order and every reply payload is sealed into one reply.
  Result<Message> on_frames(const std::vector<crypto::MutableByteView>& frames);
  // The state sealed, in parts when the ring cannot carry it in one record.
  Result<Message> on_seal_state();
  // A sealed blob's last part (or the whole blob): unseals the parts kept so far with it.
  Result<Message> on_unseal_state(ByteView last_part);
  Result<Message> on_next_part();
  Result<Message> on_install_key(ByteView release);
  // From the released key where the config pins a key broker, the backend's sealing key otherwise; both mixed with
  // the config digest.
  Result<crypto::SecretKey> sealing_key();
  // The first of `parts` now, as `more` (or as `last` when it is the only one); next_part sends the others.
  Message reply_in_parts(MsgType more, MsgType last, std::vector<Bytes> parts);
  // Forgets a sealed blob's parts so far and refuses with `reason`.
  Result<Message> drop_unseal_parts(const std::string& reason);
  // Sends a reply; one too large for the ring becomes an error reply naming the sizes.
  Status send_reply(BoundaryChannel& channel, Message reply);

  std::unique_ptr<AttestationBackend> backend_;
  crypto::Digest32 config_digest_;
  std::optional<crypto::VerifyKey> key_broker_;
  std::optional<crypto::SecretKey> released_key_;
  crypto::KxKeyPair kx_;
  std::map<crypto::SessionId, EnclaveSession> sessions_;
  std::set<crypto::SessionId> closed_;   // never reopened (16 bytes each, for the process's life)
  TrustedState state_;
  PeerAdmission admission_;
  SessionLimits limits_;
  std::vector<std::function<void(const crypto::SessionId&)>> closed_listeners_;
  std::optional<crypto::SessionId> closing_;   // set by a close frame, done once its reply is sealed
  HandlerRegistry<MsgType, MessageHandler> messages_;
  HandlerRegistry<crypto::PayloadKind, FrameHandler> frames_;
  // What one message to the host can carry: the channel's, once serve() starts (the default 32 MiB before, never 0).
  std::size_t max_reply_bytes_ = std::size_t(32) << 20;
  // The rest of a reply sent in parts, for next_part: each goes as `more`, the final one as `last`.
  struct ReplyParts {
    MsgType more = MsgType::frames_more, last = MsgType::frames;
    std::deque<Bytes> parts;
  } reply_parts_;
  Bytes unseal_parts_;               // a sealed blob's parts so far (unseal_state_more)
  std::size_t unseal_part_count_ = 0;
  uint64_t requests_served_ = 0;
  uint64_t sessions_opened_ = 0;
  uint64_t state_generation_ = 0;
  crypto::Digest64 sealed_digest_{};   // of the state as last sealed or unsealed
  bool stopping_ = false;
};

}  // namespace sg::tee
