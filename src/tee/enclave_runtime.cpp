#include "tee/enclave_runtime.h"

#include <algorithm>
#include <cstdint>
#include <new>
#include <string_view>
#include <tuple>
#include <utility>

#include <sodium.h>

#include "crypto/hash.h"
#include "crypto/sealing.h"
#include "tee/key_release.h"

namespace sg::tee {
namespace {

Message reply(MsgType type, Bytes payload = {}) { return Message{type, std::move(payload)}; }

crypto::Unexpected<Error> rejected(const std::string& what) { return fail(Errc::rejected, what); }

Status expect_empty(ByteView payload, MsgType type) {
  if (payload.size != 0) return rejected(msg_type_name(type) + " takes no payload");
  return {};
}

// What the runtime's sealed blobs are for (crypto::seal's associated data); the key already binds the
// measurement, and with it the job.
constexpr std::string_view kStatePurpose = "sliceguard-enclave-state-v1";

Bytes serialize_state(uint64_t generation, const TrustedState& state) {
  Bytes out;
  crypto::ByteWriter w(out);
  w.u64(generation);
  w.u32(uint32_t(state.size()));
  for (const auto& [name, value] : state) {
    w.bytes32(ByteView(name));
    w.bytes32(value);
  }
  return out;
}

// The blob authenticated under the sealing key, so only a malformed *own* blob could fail here.
Result<std::pair<uint64_t, TrustedState>> parse_state(ByteView bytes) {
  crypto::ByteReader r(bytes);
  uint64_t generation = 0;
  uint32_t count = 0;
  if (!r.u64(generation) || !r.u32(count)) return rejected("sealed state is malformed");
  TrustedState state;
  for (uint32_t i = 0; i < count; ++i) {
    ByteView name, value;
    if (!r.bytes32(name, bytes.size) || !r.bytes32(value, bytes.size)) return rejected("sealed state is malformed");
    state[std::string(reinterpret_cast<const char*>(name.data), name.size)] = value.to_bytes();
  }
  if (r.remaining() != 0) return rejected("sealed state has trailing bytes");
  return std::make_pair(generation, std::move(state));
}

}  // namespace

EnclaveRuntime::EnclaveRuntime(std::unique_ptr<AttestationBackend> backend, const EnclaveConfig& config)
    : backend_(std::move(backend)),
      config_digest_(config_digest_of(config.bytes)),
      key_broker_(config.key_broker),
      kx_(crypto::KxKeyPair::generate()) {
  messages_.add(MsgType::health, [this](ByteView p) -> Result<Message> {
    if (auto e = expect_empty(p, MsgType::health); !e) return crypto::unexpected(e.error());
    return reply(MsgType::health_report, encode(HealthReport{requests_served_, uint32_t(sessions_.size())}));
  });
  messages_.add(MsgType::get_evidence, [this](ByteView p) { return on_get_evidence(p); });
  messages_.add(MsgType::open_session, [this](ByteView p) { return on_open_session(p); });
  messages_.add(MsgType::frame_list, [this](crypto::MutableByteView p) -> Result<Message> {
    auto frames = parse_frame_list(p);
    if (!frames) return rejected(frames.error().message);
    if (frames->empty()) return rejected("frame_list carries no frames");
    return on_frames(*frames);
  });
  messages_.add(MsgType::next_part, [this](ByteView p) -> Result<Message> {
    if (auto e = expect_empty(p, MsgType::next_part); !e) return crypto::unexpected(e.error());
    return on_next_part();
  });
  messages_.add(MsgType::seal_state, [this](ByteView p) -> Result<Message> {
    if (auto e = expect_empty(p, MsgType::seal_state); !e) return crypto::unexpected(e.error());
    return on_seal_state();
  });
  messages_.add(MsgType::unseal_state, [this](ByteView p) { return on_unseal_state(p); });
  messages_.add(MsgType::install_key, [this](ByteView p) { return on_install_key(p); });
  messages_.add(MsgType::unseal_state_more, [this](ByteView p) -> Result<Message> {
    // A refused part drops the parts before it too: the blob can no longer arrive whole.
    if (p.size == 0) return drop_unseal_parts("unseal_state_more carries no bytes");
    if (++unseal_part_count_ >= kMaxParts)
      return drop_unseal_parts("sealed blob in more than " + std::to_string(kMaxParts) + " parts");
    unseal_parts_.insert(unseal_parts_.end(), p.data, p.data + p.size);
    return reply(MsgType::ok);
  });
  messages_.add(MsgType::stop, [this](ByteView p) -> Result<Message> {
    if (auto e = expect_empty(p, MsgType::stop); !e) return crypto::unexpected(e.error());
    stopping_ = true;
    return reply(MsgType::ok);
  });
  frames_.add(crypto::PayloadKind::echo, [](EnclaveSession&, ByteView plaintext) -> Result<std::vector<OutgoingPayload>> {
    return std::vector<OutgoingPayload>{{crypto::PayloadKind::echo, plaintext.to_bytes()}};
  });
  frames_.add(crypto::PayloadKind::close, [this](EnclaveSession& session, ByteView plaintext) -> Result<std::vector<OutgoingPayload>> {
    if (plaintext.size != 0) return rejected("a close frame carries no payload");
    closing_ = session.channel.session_id();
    return std::vector<OutgoingPayload>{{crypto::PayloadKind::close, {}}};
  });
}

Status EnclaveRuntime::serve(BoundaryChannel& channel) {
  if (auto sent = channel.send(MsgType::hello, encode(Hello{kBoundaryVersion, backend_name(backend_->kind())})); !sent) {
    return sent;
  }
  max_reply_bytes_ = channel.max_payload();
  while (!stopping_) {
    auto request = channel.receive(-1);
    if (!request && request.error().code == Errc::closed) return {};   // the host went away: nothing to serve
    if (!request && request.error().code != Errc::protocol) return crypto::unexpected(request.error());
    // A host that moves on forfeits the rest of a reply in parts, and the parts of a blob it was sending.
    if (!request || request->type != MsgType::next_part) reply_parts_.parts.clear();
    if (!request || (request->type != MsgType::unseal_state_more && request->type != MsgType::unseal_state))
      (void)drop_unseal_parts("");
    ++requests_served_;
    // A request that violates the wire format is answered with the reason, like any other rejection.
    Result<Message> response = request ? dispatch(*request) : Result<Message>(crypto::unexpected(request.error()));
    if (!response) {
      const std::string& reason = response.error().message;
      response = reply(MsgType::error, Bytes(reason.begin(), reason.end()));
    }
    if (auto sent = send_reply(channel, std::move(*response)); !sent) {
      if (sent.error().code == Errc::closed) return {};
      return sent;
    }
  }
  return {};
}

Status EnclaveRuntime::send_reply(BoundaryChannel& channel, Message reply) {
  auto sent = channel.send(reply.type, reply.payload);
  if (!sent && sent.error().code == Errc::protocol) {   // too large for the ring: say so rather than exit
    reply_parts_.parts.clear();
    const std::string reason = msg_type_name(reply.type) + " reply not sent: " + sent.error().message;
    return channel.send(MsgType::error, Bytes(reason.begin(), reason.end()));
  }
  return sent;
}

Result<Message> EnclaveRuntime::on_next_part() {
  auto& parts = reply_parts_.parts;
  if (parts.empty()) return rejected("next_part without a reply in parts");
  Message part{parts.size() > 1 ? reply_parts_.more : reply_parts_.last, std::move(parts.front())};
  parts.pop_front();
  return part;
}

Message EnclaveRuntime::reply_in_parts(MsgType more, MsgType last, std::vector<Bytes> parts) {
  if (parts.size() == 1) return {last, std::move(parts.front())};
  reply_parts_ = {more, last, {std::make_move_iterator(parts.begin() + 1), std::make_move_iterator(parts.end())}};
  return {more, std::move(parts.front())};
}

Result<Message> EnclaveRuntime::dispatch(Message& request) {
  const MessageHandler* handler = messages_.find(request.type);
  if (!handler) return rejected("unknown message type " + msg_type_name(request.type));
  try {
    return (*handler)({request.payload.data(), request.payload.size()});
  } catch (const std::bad_alloc&) {   // a request too large for this enclave's memory is refused, not an exit
    reply_parts_.parts.clear();
    return drop_unseal_parts("out of memory handling " + msg_type_name(request.type));
  }
}

Result<Message> EnclaveRuntime::drop_unseal_parts(const std::string& reason) {
  unseal_parts_ = Bytes();
  unseal_part_count_ = 0;
  return rejected(reason);
}

Result<Message> EnclaveRuntime::on_get_evidence(ByteView nonce) {
  if (nonce.size != kEvidenceNonceBytes) {
    return rejected("get_evidence needs a " + std::to_string(kEvidenceNonceBytes) + "-byte nonce, got " +
                    std::to_string(nonce.size));
  }
  auto evidence = attest_bound(*backend_, config_digest_, kx_.public_key, nonce);
  if (!evidence) return crypto::unexpected(evidence.error());
  return reply(MsgType::evidence, encode(EvidenceReply{serialize_evidence(*evidence), kx_.public_key}));
}

Result<Message> EnclaveRuntime::on_open_session(ByteView payload) {
  crypto::KxPublicKey peer_key{};
  if (payload.size < peer_key.size()) return rejected("open_session needs a 32-byte X25519 public key");
  std::copy(payload.data, payload.data + peer_key.size(), peer_key.begin());
  const ByteView proof(payload.data + peer_key.size(), payload.size - peer_key.size());
  Bytes peer;
  if (admission_) {   // before anything is allocated for the session
    auto admitted = admission_(peer_key, proof, kx_.public_key);
    if (!admitted) return rejected("peer refused: " + admitted.error().message);
    peer = std::move(*admitted);
  } else if (proof.size != 0) {
    return rejected("open_session: this enclave takes a 32-byte key and no peer proof");
  }
  auto keys = crypto::derive_session_keys(crypto::Role::server, kx_, peer_key);
  if (!keys) return rejected(keys.error().message);
  const crypto::SessionId id = keys->id;
  // Re-opening a live session would reset its counters and let old frames replay.
  if (sessions_.count(id)) return rejected("session " + crypto::to_hex(id) + " is already open");
  // Nor may a closed one come back: its recorded open_session and frames would replay into fresh counters.
  if (closed_.count(id)) return rejected("session " + crypto::to_hex(id) + " was closed; open one with a fresh key");
  if (!make_room_for(peer))
    return rejected("too many open sessions (" + std::to_string(sessions_.size()) + ", none idle for " +
                    std::to_string(limits_.idle.count()) + " ms)");
  sessions_.emplace(id, EnclaveSession{crypto::AeadChannel(std::move(*keys)), std::move(peer),
                                       std::chrono::steady_clock::now()});
  ++sessions_opened_;
  return reply(MsgType::session_opened, Bytes(id.begin(), id.end()));
}

bool EnclaveRuntime::make_room_for(const Bytes& peer) {
  auto least_recent = [&](auto&& eligible) {
    auto found = sessions_.end();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
      if (eligible(it->second) && (found == sessions_.end() || it->second.last_used < found->second.last_used)) found = it;
    return found;
  };
  if (!peer.empty()) {
    const auto held = std::count_if(sessions_.begin(), sessions_.end(), [&](const auto& s) { return s.second.peer == peer; });
    if (std::size_t(held) >= limits_.per_peer)
      close_session(least_recent([&](const EnclaveSession& s) { return s.peer == peer; })->first);
  }
  const auto idle_since = std::chrono::steady_clock::now() - limits_.idle;
  while (sessions_.size() >= limits_.max_sessions) {
    auto idle = least_recent([&](const EnclaveSession& s) { return s.last_used <= idle_since; });
    if (idle == sessions_.end()) return false;
    close_session(idle->first);
  }
  return true;
}

void EnclaveRuntime::close_session(const crypto::SessionId& id) {
  if (sessions_.erase(id) == 0) return;
  closed_.insert(id);
  for (const auto& listener : closed_listeners_) listener(id);
}

Result<Message> EnclaveRuntime::on_frames(const std::vector<crypto::MutableByteView>& frames) {
  auto header = crypto::parse_frame_header(frames.front(), crypto::kDefaultMaxFramePayload);
  if (!header) return rejected(header.error().message);
  auto session = sessions_.find(header->session);
  if (session == sessions_.end()) return rejected("frame for unknown session " + crypto::to_hex(header->session));
  crypto::AeadChannel& channel = session->second.channel;
  auto opened = channel.open_frames_in_place(frames);   // every frame must belong to this session
  if (!opened) return rejected(opened.error().message);
  session->second.last_used = std::chrono::steady_clock::now();
  closing_.reset();

  std::vector<OutgoingPayload> outgoing;
  Status handled;
  for (std::size_t i = 0; i < opened->size(); ++i) {
    const crypto::OpenedInPlace& frame = (*opened)[i];
    const FrameHandler* handler = frames_.find(frame.header.kind);
    if (!handler && handled)
      handled = rejected("no handler for payload kind " + std::to_string(unsigned(frame.header.kind)));
    if (handled) {
      auto out = (*handler)(session->second, frame.payload);
      if (out) {
        for (auto& p : *out) outgoing.push_back(std::move(p));
      } else {
        handled = crypto::unexpected(out.error());
      }
    }
    sodium_memzero(frames[i].data + crypto::kFrameHeaderBytes, frame.payload.size);
  }
  if (!handled) return crypto::unexpected(handled.error());

  // Sealed from the handlers' payloads straight into the reply's frame lists; a reply larger than the ring goes in
  // parts, the first now and the rest on next_part.
  std::vector<crypto::FrameSpec> specs;
  std::vector<std::size_t> sizes;
  std::vector<ByteView> plaintexts;
  for (const auto& out : outgoing) {
    specs.push_back({out.kind, out.payload.size()});
    sizes.push_back(crypto::frame_size(out.payload.size()));
    plaintexts.push_back(out.payload);
  }
  auto layout = layout_frame_lists(sizes, max_reply_bytes_);
  auto sealed = channel.seal_frames(specs, layout.slots, plaintexts);
  if (!sealed) return rejected(sealed.error().message);
  if (closing_) close_session(*std::exchange(closing_, std::nullopt));
  return reply_in_parts(MsgType::frames_more, MsgType::frames, std::move(layout.lists));
}

Result<Message> EnclaveRuntime::on_install_key(ByteView release) {
  if (!key_broker_) return rejected("install_key: this enclave's config pins no key_broker");
  if (released_key_) return rejected("install_key: a released key is already installed");
  auto key = open_released_key(release, *key_broker_, kx_, backend_->measurement(), config_digest_);
  if (!key) return rejected("install_key: " + key.error().message);
  released_key_ = std::move(*key);
  return reply(MsgType::ok, {});
}

Result<crypto::SecretKey> EnclaveRuntime::sealing_key() {
  // The config is mixed in on every backend: a CVM's measurement (and so its firmware key) covers the image only,
  // and the same image started with another job must not open this job's state.
  if (!key_broker_) {
    auto key = backend_->sealing_key();
    if (!key) return key;
    return crypto::derive_sealing_key(*key, config_digest_);
  }
  if (!released_key_)
    return fail(Errc::unsupported, "this enclave seals only with a key its key_broker releases, and none was "
                                   "installed (install_key)");
  return crypto::derive_sealing_key(*released_key_, config_digest_);
}

Result<Message> EnclaveRuntime::on_seal_state() {
  for (const auto& [name, value] : state_)   // entries are length-prefixed with 32 bits
    if (value.size() > UINT32_MAX) return rejected("trusted state '" + name + "' is over 4 GiB: it cannot be sealed");
  auto key = sealing_key();
  if (!key) return crypto::unexpected(key.error());
  // The generation counts changes, not seals: a host that seals an old state again and again cannot count it
  // past a generation a client saw.
  Bytes plaintext = serialize_state(0, state_);
  const auto digest = crypto::blake2b_512({ByteView(plaintext.data() + 8, plaintext.size() - 8)});
  if (digest != sealed_digest_) {
    ++state_generation_;
    sealed_digest_ = digest;
  }
  for (int i = 0; i < 8; ++i) plaintext[std::size_t(i)] = uint8_t(state_generation_ >> (8 * i));
  const Bytes blob = crypto::seal(*key, plaintext, kStatePurpose);
  sodium_memzero(plaintext.data(), plaintext.size());
  if (const std::size_t needed = (blob.size() + max_reply_bytes_ - 1) / max_reply_bytes_; needed > kMaxParts)
    return rejected("sealed state of " + std::to_string(blob.size()) + " bytes needs " + std::to_string(needed) +
                    " parts of " + std::to_string(max_reply_bytes_) + " bytes; at most " + std::to_string(kMaxParts) +
                    " cross the ring");
  std::vector<Bytes> parts;
  for (std::size_t at = 0; at < blob.size(); at += max_reply_bytes_) {
    const std::size_t n = std::min(max_reply_bytes_, blob.size() - at);
    parts.emplace_back(blob.begin() + std::ptrdiff_t(at), blob.begin() + std::ptrdiff_t(at + n));
  }
  return reply_in_parts(MsgType::sealed_state_more, MsgType::sealed_state, std::move(parts));
}

Result<Message> EnclaveRuntime::on_unseal_state(ByteView last_part) {
  Bytes joined = std::exchange(unseal_parts_, Bytes());
  unseal_part_count_ = 0;
  // Restoring is for start-up only: swapping the state under live sessions would let the host rewind a round
  // and replay it with other inputs.
  if (sessions_opened_ != 0) return rejected("unseal_state is refused once a session has opened; restart the enclave to restore sealed state");
  auto key = sealing_key();
  if (!key) return crypto::unexpected(key.error());
  if (!joined.empty()) joined.insert(joined.end(), last_part.data, last_part.data + last_part.size);
  auto plaintext = crypto::unseal(*key, joined.empty() ? last_part : ByteView(joined), kStatePurpose);
  if (!plaintext) return rejected(plaintext.error().message);
  auto state = parse_state(*plaintext);
  if (!state) return crypto::unexpected(state.error());
  std::tie(state_generation_, state_) = std::move(*state);
  sealed_digest_ = crypto::blake2b_512({ByteView(plaintext->data() + 8, plaintext->size() - 8)});
  return reply(MsgType::ok);
}

}  // namespace sg::tee
