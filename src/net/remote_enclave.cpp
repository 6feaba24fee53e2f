#include "net/remote_enclave.h"

#include <grpcpp/grpcpp.h>

#include <stdexcept>

#include "crypto/aead_channel.h"
#include "tee/attested_session.h"
#include "net/frames_stream.h"
#include "net/relay_server.h"

namespace sg::net {
namespace {

namespace pb = sliceguard::v1;

crypto::ByteView view(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

std::chrono::system_clock::time_point after(std::chrono::milliseconds ms) { return std::chrono::system_clock::now() + ms; }

[[noreturn]] void fail(const ConnectOptions& o, const std::string& what) {
  throw std::runtime_error("server at " + o.server + ": " + what);
}

void check(const grpc::Status& status, const ConnectOptions& o, const std::string& call) {
  if (!status.ok()) fail(o, call + " failed: " + status.error_message() + " (gRPC code " +
                                std::to_string(int(status.error_code())) + ")");
}

std::shared_ptr<grpc::Channel> open_channel(const ConnectOptions& options) {
  if (options.max_message_bytes <= 0)
    fail(options, "max_message_bytes must be positive, not " + std::to_string(options.max_message_bytes));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!options.tls_ca_path.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = read_pem(options.tls_ca_path);
    credentials = grpc::SslCredentials(ssl);
  }
  auto channel = grpc::CreateCustomChannel(options.server, credentials, args);
  if (!channel->WaitForConnected(after(options.connect_timeout)))
    fail(options, "unreachable (no connection within " + std::to_string(options.connect_timeout.count()) + " ms)");
  return channel;
}

}  // namespace

ServerStatus fetch_status(const ConnectOptions& options) {
  auto stub = pb::SliceGuard::NewStub(open_channel(options));
  grpc::ClientContext context;
  context.set_deadline(after(options.connect_timeout));
  pb::StatusReply reply;
  check(stub->GetStatus(&context, pb::StatusRequest(), &reply), options, "GetStatus");
  return {reply.backend(), reply.plan(), reply.requests_served(), reply.sessions(), reply.enclave_pid()};
}

struct ServerConnection::Impl {
  ConnectOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::SliceGuard::Stub> stub;
  std::unique_ptr<grpc::ClientContext> stream_context;
  std::unique_ptr<grpc::ClientReaderWriter<pb::Frames, pb::Frames>> stream;
};

ServerConnection::ServerConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ServerConnection::~ServerConnection() {
  if (impl_->stream) {
    impl_->stream->WritesDone();
    impl_->stream_context->TryCancel();
  }
}

const ConnectOptions& ServerConnection::options() const { return impl_->options; }

std::unique_ptr<ServerConnection> ServerConnection::open(const ConnectOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->channel = open_channel(options);
  impl->stub = pb::SliceGuard::NewStub(impl->channel);
  return std::unique_ptr<ServerConnection>(new ServerConnection(std::move(impl)));
}

tee::EnclaveDoor ServerConnection::door() {
  tee::EnclaveDoor door;
  door.get_evidence = [this](tee::ByteView nonce) -> tee::Result<tee::EvidenceReply> {
    const auto& options = impl_->options;
    pb::EvidenceRequest request;
    request.set_nonce(std::string(reinterpret_cast<const char*>(nonce.data), nonce.size));
    pb::EvidenceReply reply;
    grpc::ClientContext context;
    context.set_deadline(after(options.connect_timeout));
    check(impl_->stub->GetEvidence(&context, request, &reply), options, "GetEvidence");
    if (reply.enclave_key().size() != 32) fail(options, "evidence reply has no 32-byte enclave key");
    tee::EvidenceReply out;
    out.evidence = view(reply.evidence()).to_bytes();
    std::copy(reply.enclave_key().begin(), reply.enclave_key().end(), out.enclave_key.begin());
    return out;
  };
  door.open_session = [this](const crypto::KxPublicKey& key, tee::ByteView proof) -> tee::Result<crypto::SessionId> {
    return open_session(key, proof);
  };
  return door;
}

crypto::SessionId ServerConnection::open_session(const crypto::KxPublicKey& key, crypto::ByteView attestation) {
  const auto& options = impl_->options;
  pb::OpenSessionRequest request;
  request.set_client_key(std::string(key.begin(), key.end()));
  request.set_client_attestation(std::string(reinterpret_cast<const char*>(attestation.data), attestation.size));
  pb::OpenSessionReply reply;
  grpc::ClientContext context;
  context.set_deadline(after(options.connect_timeout));
  check(impl_->stub->OpenSession(&context, request, &reply), options, "OpenSession");
  crypto::SessionId id{};
  if (reply.session_id().size() != id.size()) fail(options, "OpenSession returned a malformed session id");
  std::copy(reply.session_id().begin(), reply.session_id().end(), id.begin());
  return id;
}

std::vector<crypto::Bytes> ServerConnection::exchange(const std::vector<crypto::Bytes>& frames) {
  if (!impl_->stream) {
    impl_->stream_context = std::make_unique<grpc::ClientContext>();
    impl_->stream = impl_->stub->Exchange(impl_->stream_context.get());
  }
  auto ended = [&] {   // the stream is finished and dropped: a later exchange opens a fresh one
    auto context = std::move(impl_->stream_context);   // declared first: outlives the stream that refers to it
    auto stream = std::move(impl_->stream);
    const auto status = stream->Finish();
    fail(impl_->options, "the connection to the enclave ended: " +
                             (status.ok() ? std::string("stream closed") : status.error_message()));
  };
  std::vector<std::string> out;
  for (const auto& f : frames) out.emplace_back(f.begin(), f.end());
  if (!write_in_parts(*impl_->stream, std::move(out), std::size_t(impl_->options.max_message_bytes))) ended();
  std::vector<crypto::Bytes> reply;
  uint64_t reply_bytes = 0;
  for (pb::Frames in; impl_->stream->Read(&in);) {
    for (const auto& f : in.frame()) {
      reply_bytes += f.size();
      if (reply_bytes > impl_->options.max_reply_bytes)
        fail(impl_->options, "a reply of more than " + std::to_string(impl_->options.max_reply_bytes) +
                                 " bytes (max_reply_bytes) was cut off");
      reply.push_back(view(f).to_bytes());
    }
    if (!in.more()) return reply;
  }
  ended();
  return reply;   // not reached: ended() throws
}

struct RemoteEnclave::Impl {
  std::unique_ptr<ServerConnection> connection;
  tee::VerifiedEnclave verified;
  std::unique_ptr<crypto::AeadChannel> channel;
  ExchangeStats stats;
};

RemoteEnclave::RemoteEnclave(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RemoteEnclave::~RemoteEnclave() {
  crypto::Bytes frame;
  if (!impl_->channel->seal_frame(crypto::PayloadKind::close, {}, frame)) return;
  try {
    (void)impl_->connection->exchange({frame});
  } catch (const std::exception&) {   // the server is gone: its enclave frees the session when idle
  }
}

const tee::VerifiedEnclave& RemoteEnclave::verified() const { return impl_->verified; }
const ExchangeStats& RemoteEnclave::stats() const { return impl_->stats; }

std::unique_ptr<RemoteEnclave> RemoteEnclave::connect(const ConnectOptions& options, const tee::Policy& policy,
                                                      const crypto::SigningKeyPair* identity) {
  auto impl = std::make_unique<Impl>();
  impl->connection = ServerConnection::open(options);
  // Attest, then open: nothing but the nonce, our public key and our identity proof is sent before the
  // evidence verifies.
  auto session = tee::attest_and_open(impl->connection->door(), policy, identity);
  if (!session) fail(options, session.error().message);
  impl->verified = session->verified;
  impl->channel = std::move(session->channel);
  return std::unique_ptr<RemoteEnclave>(new RemoteEnclave(std::move(impl)));
}

crypto::Envelope RemoteEnclave::call(const crypto::Envelope& request) {
  const auto& o = impl_->connection->options();
  auto& stats = impl_->stats;
  auto start = std::chrono::steady_clock::now();
  auto frames = crypto::seal_envelope(*impl_->channel, request);
  if (!frames) fail(o, "cannot seal request: " + frames.error().message);
  stats.crypto_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (const auto& f : *frames) stats.bytes_sent += f.size();
  const auto reply_frames = impl_->connection->exchange(*frames);
  start = std::chrono::steady_clock::now();
  std::vector<crypto::ByteView> frames_in;
  for (const auto& f : reply_frames) {
    frames_in.emplace_back(f.data(), f.size());
    stats.bytes_received += f.size();
  }
  auto reply = crypto::open_envelope(*impl_->channel, frames_in);
  if (!reply) fail(o, "reply rejected: " + reply.error().message);
  stats.crypto_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::move(*reply);
}

}  // namespace sg::net
