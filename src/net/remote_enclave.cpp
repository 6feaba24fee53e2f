#include "net/remote_enclave.h"

#include <grpcpp/grpcpp.h>

#include <stdexcept>

#include "crypto/otp_channel.h"
#include "crypto/secret_key.h"
#include "net/relay_server.h"
#include "sliceguard.grpc.pb.h"

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

}  // namespace

struct RemoteEnclave::Impl {
  ConnectOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::SliceGuard::Stub> stub;
  tee::VerifiedEnclave verified;
  std::unique_ptr<crypto::OtpChannel> otp;
  std::unique_ptr<grpc::ClientContext> stream_context;
  std::unique_ptr<grpc::ClientReaderWriter<pb::Frames, pb::Frames>> stream;
  ExchangeStats stats;
};

RemoteEnclave::RemoteEnclave(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

RemoteEnclave::~RemoteEnclave() {
  if (impl_->stream) {
    impl_->stream->WritesDone();
    impl_->stream_context->TryCancel();
  }
}

const tee::VerifiedEnclave& RemoteEnclave::verified() const { return impl_->verified; }
const ExchangeStats& RemoteEnclave::stats() const { return impl_->stats; }

std::unique_ptr<RemoteEnclave> RemoteEnclave::connect(const ConnectOptions& options, const tee::Policy& policy) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxGrpcMessageBytes);
  args.SetMaxSendMessageSize(kMaxGrpcMessageBytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!options.tls_ca_path.empty()) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = read_pem(options.tls_ca_path);
    credentials = grpc::SslCredentials(ssl);
  }
  impl->channel = grpc::CreateCustomChannel(options.server, credentials, args);
  if (!impl->channel->WaitForConnected(after(options.connect_timeout)))
    fail(options, "unreachable (no connection within " + std::to_string(options.connect_timeout.count()) + " ms)");
  impl->stub = pb::SliceGuard::NewStub(impl->channel);

  // 1. Evidence over our fresh nonce, verified before anything else is sent.
  const auto nonce = crypto::SecretKey::random(32);
  pb::EvidenceRequest evidence_request;
  evidence_request.set_nonce(std::string(reinterpret_cast<const char*>(nonce.data()), nonce.size()));
  pb::EvidenceReply evidence_reply;
  {
    grpc::ClientContext context;
    context.set_deadline(after(options.connect_timeout));
    check(impl->stub->GetEvidence(&context, evidence_request, &evidence_reply), options, "GetEvidence");
  }
  if (evidence_reply.enclave_key().size() != 32) fail(options, "evidence reply has no 32-byte enclave key");
  crypto::KxPublicKey enclave_key;
  std::copy(evidence_reply.enclave_key().begin(), evidence_reply.enclave_key().end(), enclave_key.begin());
  auto evidence = tee::parse_evidence(view(evidence_reply.evidence()));
  if (!evidence) fail(options, "evidence refused: " + evidence.error().message);
  auto verified = tee::verify_evidence(*evidence, policy, crypto::ByteView(nonce.data(), nonce.size()), enclave_key);
  if (!verified) fail(options, "evidence refused by policy " + policy.source + ": " + verified.error().message);
  impl->verified = *verified;

  // 2. Session keys with the attested key.
  auto mine = crypto::KxKeyPair::generate();
  auto keys = crypto::derive_session_keys(crypto::Role::client, mine, enclave_key);
  if (!keys) fail(options, "enclave key unusable: " + keys.error().message);
  pb::OpenSessionRequest open;
  open.set_client_key(std::string(mine.public_key.begin(), mine.public_key.end()));
  pb::OpenSessionReply opened;
  {
    grpc::ClientContext context;
    context.set_deadline(after(options.connect_timeout));
    check(impl->stub->OpenSession(&context, open, &opened), options, "OpenSession");
  }
  if (opened.session_id() != std::string(keys->id.begin(), keys->id.end()))
    fail(options, "the enclave opened a different session than the handshake derives");
  impl->otp = std::make_unique<crypto::OtpChannel>(std::move(*keys));
  impl->stream_context = std::make_unique<grpc::ClientContext>();
  impl->stream = impl->stub->Exchange(impl->stream_context.get());
  return std::unique_ptr<RemoteEnclave>(new RemoteEnclave(std::move(impl)));
}

crypto::Envelope RemoteEnclave::call(const crypto::Envelope& request) {
  auto& o = impl_->options;
  auto& stats = impl_->stats;
  auto start = std::chrono::steady_clock::now();
  auto frames = crypto::seal_envelope(*impl_->otp, request);
  if (!frames) fail(o, "cannot seal request: " + frames.error().message);
  stats.crypto_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  pb::Frames out;
  for (const auto& f : *frames) {
    out.add_frame(std::string(f.begin(), f.end()));
    stats.bytes_sent += f.size();
  }
  pb::Frames in;
  if (!impl_->stream->Write(out) || !impl_->stream->Read(&in)) {
    const auto status = impl_->stream->Finish();
    fail(o, "the connection to the enclave ended: " +
                (status.ok() ? std::string("stream closed") : status.error_message()));
  }
  start = std::chrono::steady_clock::now();
  crypto::EnvelopeAssembler assembler;
  for (int i = 0; i < in.frame_size(); ++i) {
    stats.bytes_received += in.frame(i).size();
    auto opened = impl_->otp->open_frame(view(in.frame(i)));
    if (!opened) fail(o, "reply frame rejected: " + opened.error().message);
    auto added = assembler.add(opened->header.kind, opened->payload);
    if (!added) fail(o, "malformed reply: " + added.error().message);
    if (*added) {
      if (i + 1 != in.frame_size()) fail(o, "malformed reply: frames after the end of the envelope");
      stats.crypto_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      return std::move(**added);
    }
  }
  fail(o, "malformed reply: the envelope is incomplete");
}

}  // namespace sg::net
