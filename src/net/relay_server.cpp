#include "net/relay_server.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <stdexcept>

#include "crypto/frame.h"
#include "net/enclave_host.h"
#include "net/frames_stream.h"
#include "tee/host_enclave_process.h"

namespace sg::net {
namespace {

using grpc::ServerContext;
using grpc::Status;
using grpc::StatusCode;
namespace pb = sliceguard::v1;

crypto::ByteView view(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }
std::string to_string(crypto::ByteView b) { return {reinterpret_cast<const char*>(b.data), b.size}; }

// The enclave's refusals go back to the client as FAILED_PRECONDITION; a dead enclave as UNAVAILABLE.
Status to_status(const tee::Error& error) {
  const auto code = error.code == tee::Errc::enclave_exited || error.code == tee::Errc::closed ||
                            error.code == tee::Errc::timeout
                        ? StatusCode::UNAVAILABLE
                        : StatusCode::FAILED_PRECONDITION;
  return {code, error.message};
}

class Service final : public pb::SliceGuard::Service {
 public:
  Service(tee::EnclaveProcess& enclave, const RelayOptions& options) : enclave_(enclave), options_(options) {}

  // Writes the enclave's sealed state to options.seal_path when due (or always, with `force`).
  void persist_sealed_state(bool force) {
    std::lock_guard lock(mutex_);
    persist_locked(force);
  }

  Status GetEvidence(ServerContext*, const pb::EvidenceRequest* request, pb::EvidenceReply* reply) override {
    std::lock_guard lock(mutex_);
    auto evidence = enclave_.get_evidence(view(request->nonce()));
    if (!evidence) return to_status(evidence.error());
    reply->set_evidence(to_string(evidence->evidence));
    reply->set_enclave_key(std::string(evidence->enclave_key.begin(), evidence->enclave_key.end()));
    return Status::OK;
  }

  Status OpenSession(ServerContext*, const pb::OpenSessionRequest* request, pb::OpenSessionReply* reply) override {
    if (request->client_key().size() != 32) return {StatusCode::INVALID_ARGUMENT, "client_key must be 32 bytes"};
    crypto::KxPublicKey key;
    std::copy(request->client_key().begin(), request->client_key().end(), key.begin());
    std::lock_guard lock(mutex_);
    auto id = enclave_.open_session(key, view(request->client_attestation()));
    if (!id) return to_status(id.error());
    reply->set_session_id(std::string(id->begin(), id->end()));
    return Status::OK;
  }

  // Each message's frames go to the enclave as they arrive; the enclave's replies are sent back, in as many
  // messages as they need, after an envelope's last message (`more` unset). The enclave answers only a complete
  // envelope, so a reply to a message marked `more` means the client completed an envelope early: refused, or a
  // peer could make this host hold replies without end.
  Status Exchange(ServerContext* context, grpc::ServerReaderWriter<pb::Frames, pb::Frames>* stream) override {
    pb::Frames incoming;
    std::vector<std::string> reply;
    bool inside_envelope = false;
    while (stream->Read(&incoming)) {
      if (auto checked = check_frame_sizes(incoming); !checked.ok()) return checked;
      {
        std::lock_guard lock(mutex_);
        if (auto relayed = relay(incoming, reply); !relayed.ok()) return relayed;
      }
      inside_envelope = incoming.more();
      if (inside_envelope && !reply.empty())
        return {StatusCode::INVALID_ARGUMENT, "an envelope ended in a message marked 'more'"};
      if (inside_envelope) continue;
      persist_sealed_state(false);
      if (!write_in_parts(*stream, std::move(reply), std::size_t(options_.max_message_bytes)))
        return {StatusCode::CANCELLED, "the client went away"};
      reply.clear();
    }
    if (inside_envelope) return {StatusCode::CANCELLED, "the client went away in the middle of an envelope"};
    return context->IsCancelled() ? Status(StatusCode::CANCELLED, "the client went away") : Status::OK;
  }

  Status GetStatus(ServerContext*, const pb::StatusRequest*, pb::StatusReply* reply) override {
    std::lock_guard lock(mutex_);
    auto health = enclave_.health();
    if (!health) return to_status(health.error());
    reply->set_backend(enclave_.hello().backend);
    reply->set_plan(options_.plan_name);
    reply->set_requests_served(health->requests_served);
    reply->set_sessions(health->sessions);
    reply->set_enclave_pid(enclave_.pid());
    return Status::OK;
  }

 private:
  // Every frame must be one a channel could open, before anything is allocated for it or the enclave is locked.
  static Status check_frame_sizes(const pb::Frames& incoming) {
    const std::size_t smallest = crypto::frame_size(0), largest = crypto::frame_size(crypto::kDefaultMaxFramePayload);
    for (const auto& frame : incoming.frame()) {
      if (frame.size() < smallest || frame.size() > largest) {
        return {StatusCode::INVALID_ARGUMENT, "a frame of " + std::to_string(frame.size()) +
                                                  " bytes is not a sealed frame (" + std::to_string(smallest) + " to " +
                                                  std::to_string(largest) + " bytes)"};
      }
    }
    return Status::OK;
  }

  // One message's frames, all of one session (an envelope or part of one): the enclave opens them as one batch
  // (in lists the ring can carry); its replies are appended to `outgoing`.
  Status relay(const pb::Frames& incoming, std::vector<std::string>& outgoing) {
    if (incoming.frame().empty()) return Status::OK;
    std::vector<std::size_t> sizes;
    for (const auto& frame : incoming.frame()) sizes.push_back(frame.size());
    auto layout = tee::layout_frame_lists(sizes, enclave_.max_frame_list_bytes());
    for (int i = 0; i < incoming.frame_size(); ++i) {
      const std::string& frame = incoming.frame(i);
      if (options_.tap) options_.tap(RelayDirection::to_enclave, view(frame));
      std::copy(frame.begin(), frame.end(), layout.slots[std::size_t(i)].data);
    }
    auto replies = enclave_.exchange_frame_lists(layout.lists);
    if (!replies) return to_status(replies.error());
    for (const crypto::ByteView r : replies->frames) {
      if (options_.tap) options_.tap(RelayDirection::to_client, r);
      outgoing.push_back(to_string(r));
    }
    return Status::OK;
  }

  void persist_locked(bool force) {
    if (options_.seal_path.empty()) return;
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - last_seal_ < options_.seal_every) return;
    last_seal_ = now;
    try {
      net::persist_sealed_state(enclave_, options_.seal_path);
    } catch (const std::exception& e) {
      spdlog::error("{}", e.what());   // the relay goes on; the previous sealed state stays in place
    }
  }

  tee::EnclaveProcess& enclave_;
  const RelayOptions& options_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point last_seal_{};
};

}  // namespace

std::string read_pem(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in || text.find("-----BEGIN") == std::string::npos) throw std::runtime_error(path + ": not a readable PEM file");
  return text;
}

namespace {
std::shared_ptr<grpc::ServerCredentials> credentials(const RelayOptions& o) {
  if (o.tls_cert_path.empty() != o.tls_key_path.empty())
    throw std::runtime_error("TLS needs both a certificate and its key");
  if (o.tls_cert_path.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({read_pem(o.tls_key_path), read_pem(o.tls_cert_path)});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

struct RelayServer::Impl {
  RelayOptions options;
  std::unique_ptr<Service> service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

RelayServer::RelayServer(tee::EnclaveProcess& enclave, RelayOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (impl_->options.max_message_bytes <= 0)
    throw std::invalid_argument("relay max_message_bytes must be positive, not " +
                                std::to_string(impl_->options.max_message_bytes));
  impl_->service = std::make_unique<Service>(enclave, impl_->options);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(impl_->options.listen, credentials(impl_->options), &impl_->port);
  builder.RegisterService(impl_->service.get());
  builder.SetMaxReceiveMessageSize(impl_->options.max_message_bytes);
  builder.SetMaxSendMessageSize(impl_->options.max_message_bytes);
  // Notice dead clients: keepalive pings on idle streams.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  impl_->server = builder.BuildAndStart();
  if (!impl_->server || impl_->port == 0)
    throw std::runtime_error("cannot listen on " + impl_->options.listen + " (address in use or invalid)");
}

RelayServer::~RelayServer() {
  shutdown();
  if (impl_->service) impl_->service->persist_sealed_state(/*force=*/true);
}
int RelayServer::port() const { return impl_->port; }
void RelayServer::wait() { impl_->server->Wait(); }
void RelayServer::shutdown() {
  if (impl_->server) impl_->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
}

}  // namespace sg::net
