#include "tee/host_enclave_process.h"

#include "tee/ring_channel.h"
#include "tee/socket_endpoint.h"
#include "tee/stream_channel.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace sg::tee {
namespace {

// The fds the enclave finds its ring channel on (also passed on its command line).
constexpr int kControlFd = 3;
constexpr int kRingFd = 4;

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return "exited with signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
  }
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

// waitpid with a deadline; nullopt if the child is still running at the deadline.
std::optional<int> wait_for_exit(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) return status;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

Result<std::unique_ptr<EnclaveProcess>> EnclaveProcess::start(EnclaveLaunch launch) {
  std::unique_ptr<EnclaveProcess> process(new EnclaveProcess(std::move(launch)));
  if (auto launched = process->launch(); !launched) return crypto::unexpected(launched.error());
  return process;
}

EnclaveProcess::~EnclaveProcess() {
  if (running()) (void)stop();
}

std::optional<BoundaryTransport> parse_boundary_transport(const std::string& name) {
  if (name == "ring") return BoundaryTransport::ring;
  if (name == "tcp") return BoundaryTransport::tcp;
  return std::nullopt;
}

Status EnclaveProcess::launch() {
  if (::access(launch_.executable.c_str(), X_OK) != 0) {
    return fail(Errc::config, "enclave executable " + launch_.executable + ": " + std::strerror(errno));
  }
  if (auto connected = launch_.transport == BoundaryTransport::ring ? connect_ring() : connect_tcp(); !connected)
    return connected;

  auto hello = channel_->receive(int(launch_.ready_timeout.count()));
  if (!hello && hello.error().code == Errc::timeout) {
    ::kill(pid_, SIGKILL);
    return crypto::unexpected(exited("(killed: not ready within " + std::to_string(launch_.ready_timeout.count()) + " ms)"));
  }
  if (!hello && hello.error().code == Errc::closed) return crypto::unexpected(exited("before it was ready"));
  if (!hello) return crypto::unexpected(hello.error());
  if (hello->type != MsgType::hello) {
    return fail(Errc::protocol, "enclave sent " + msg_type_name(hello->type) + " instead of hello");
  }
  auto parsed = parse_hello(hello->payload);
  if (!parsed) return crypto::unexpected(parsed.error());
  hello_ = std::move(*parsed);
  return {};
}

Status EnclaveProcess::connect_ring() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0) {
    return fail(Errc::io, std::string("socketpair: ") + std::strerror(errno));
  }
  UniqueFd host_end(fds[0]), enclave_end(fds[1]);
  auto memory = SharedMemory::create(launch_.ring_bytes);
  if (!memory) return crypto::unexpected(memory.error());
  if (auto spawned = spawn({"--control-fd", std::to_string(kControlFd), "--ring-fd", std::to_string(kRingFd)},
                           {enclave_end.get(), memory->fd()});
      !spawned)
    return spawned;
  channel_ = std::make_unique<RingChannel>(std::move(host_end), std::move(*memory), RingChannel::Side::host);
  return {};
}

// Any process that can reach the endpoint could connect first; it would get only what the host relays anyway (the
// enclave's hello, then sealed frames its peers cannot be fooled by: they verify the enclave's evidence), so the
// cost is a failed start. The listener lives only until the enclave's connection is accepted.
Status EnclaveProcess::connect_tcp() {
  auto endpoint = parse_endpoint(launch_.listen);
  if (!endpoint) return crypto::unexpected(endpoint.error());
  auto listener = listen_on(*endpoint);
  if (!listener) return crypto::unexpected(listener.error());
  const std::size_t payload_bytes = launch_.ring_bytes / 2;
  if (auto spawned = spawn({"--connect", listener->endpoint.text(), "--max-payload", std::to_string(payload_bytes)}, std::vector<int>{});
      !spawned)
    return spawned;
  // Wait for the enclave's connection in short slices, so an enclave that dies first is reported as such.
  const auto deadline = std::chrono::steady_clock::now() + launch_.ready_timeout;
  for (;;) {
    auto accepted = accept_within(*listener, 50);
    if (accepted) {
      // A send to an enclave that stops reading gives up after the reply timeout, as a request would.
      channel_ = std::make_unique<StreamChannel>(std::move(*accepted), payload_bytes, launch_.reply_timeout);
      return {};
    }
    if (accepted.error().code != Errc::timeout) {
      ::kill(pid_, SIGKILL);
      return crypto::unexpected(exited("(killed: " + accepted.error().message + ")"));
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) return crypto::unexpected(exited("before it connected", status));
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      return crypto::unexpected(exited("(killed: did not connect within " +
                                       std::to_string(launch_.ready_timeout.count()) + " ms)"));
    }
  }
}

Status EnclaveProcess::spawn(const std::vector<std::string>& extra_args, const std::vector<int>& fds) {
  std::vector<std::string> args = {launch_.executable};
  args.insert(args.end(), launch_.args.begin(), launch_.args.end());
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  if (fds.size() > 2) return fail(Errc::config, "an enclave inherits at most two fds (control socket and ring)");
  rlimit open_files{};
  const int fd_limit = ::getrlimit(RLIMIT_NOFILE, &open_files) == 0 && open_files.rlim_cur != RLIM_INFINITY
                           ? int(std::min<rlim_t>(open_files.rlim_cur, 1 << 20))
                           : 1 << 20;
  const pid_t pid = ::fork();
  if (pid < 0) return fail(Errc::io, std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    // Child: async-signal-safe calls only. Move the fds out of the way (close-on-exec), then onto 3, 4, ...
    // (dup2 clears close-on-exec), and close everything else the host had open.
    int moved[2];
    for (std::size_t i = 0; i < fds.size(); ++i)
      if ((moved[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, 16)) < 0) ::_exit(127);
    for (std::size_t i = 0; i < fds.size(); ++i)
      if (::dup2(moved[i], kControlFd + int(i)) < 0) ::_exit(127);
    const int first_closed = kControlFd + int(fds.size());
    if (::close_range(unsigned(first_closed), ~0U, CLOSE_RANGE_CLOEXEC) != 0)   // before Linux 5.11
      for (int fd = first_closed; fd < fd_limit; ++fd) ::close(fd);
    // The enclave starts with no signals blocked, whatever the host blocks for its own signal handling.
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  pid_ = pid;
  return {};
}

Error EnclaveProcess::exited(const std::string& when, std::optional<int> status) {
  if (!status) status = wait_for_exit(pid_, std::chrono::seconds(2));
  if (!status) {
    // The socket closed but the process lingers: it is no longer serving, so make the exit definite.
    ::kill(pid_, SIGKILL);
    status = wait_for_exit(pid_, std::chrono::seconds(10));
  }
  last_exit_ = "enclave process " + std::to_string(pid_) + " " + (status ? describe_status(*status) : "did not exit") +
               (when.empty() ? "" : " " + when);
  pid_ = -1;
  channel_.reset();
  return {Errc::enclave_exited, last_exit_};
}

Result<Message> EnclaveProcess::request(MsgType type, ByteView payload, std::initializer_list<MsgType> reply_types) {
  if (!running() || !channel_) {
    return fail(Errc::enclave_exited, last_exit_.empty() ? "enclave is not running" : last_exit_);
  }
  const std::string name = msg_type_name(type);
  if (auto sent = channel_->send(type, payload); !sent) {
    if (sent.error().code == Errc::closed) return crypto::unexpected(exited("(during " + name + ")"));
    return crypto::unexpected(sent.error());
  }
  auto reply = channel_->receive(int(launch_.reply_timeout.count()));
  if (!reply && reply.error().code == Errc::closed) return crypto::unexpected(exited("(during " + name + ")"));
  if (!reply && reply.error().code == Errc::timeout) {
    return fail(Errc::timeout, "enclave did not answer " + name + " within " +
                                   std::to_string(launch_.reply_timeout.count()) + " ms");
  }
  if (!reply) return reply;
  if (reply->type == MsgType::error) {
    return fail(Errc::rejected, "enclave rejected " + name + ": " +
                                    std::string(reply->payload.begin(), reply->payload.end()));
  }
  if (std::find(reply_types.begin(), reply_types.end(), reply->type) == reply_types.end()) {
    std::string expected;
    for (MsgType t : reply_types) expected += (expected.empty() ? "" : " or ") + msg_type_name(t);
    return fail(Errc::protocol, "enclave answered " + name + " with " + msg_type_name(reply->type) + " (expected " +
                                    expected + ")");
  }
  return reply;
}

Result<HealthReport> EnclaveProcess::health() {
  auto reply = request(MsgType::health, {}, {MsgType::health_report});
  if (!reply) return crypto::unexpected(reply.error());
  return parse_health_report(reply->payload);
}

Result<EvidenceReply> EnclaveProcess::get_evidence(ByteView nonce) {
  auto reply = request(MsgType::get_evidence, nonce, {MsgType::evidence});
  if (!reply) return crypto::unexpected(reply.error());
  return parse_evidence_reply(reply->payload);
}

Result<crypto::SessionId> EnclaveProcess::open_session(const crypto::KxPublicKey& peer_key, ByteView peer_attestation) {
  Bytes payload(peer_key.begin(), peer_key.end());
  payload.insert(payload.end(), peer_attestation.data, peer_attestation.data + peer_attestation.size);
  auto reply = request(MsgType::open_session, payload, {MsgType::session_opened});
  if (!reply) return crypto::unexpected(reply.error());
  crypto::SessionId id{};
  if (reply->payload.size() != id.size()) return fail(Errc::protocol, "session_opened payload is not a session id");
  std::copy(reply->payload.begin(), reply->payload.end(), id.begin());
  return id;
}

// A list of one: for single frames (tests, tools); sessions and relays send whole lists.
Result<SealedFrames> EnclaveProcess::exchange_frame(ByteView frame) {
  return exchange_frame_lists({encode_frame_list({Bytes(frame.data, frame.data + frame.size)})});
}

Result<SealedFrames> EnclaveProcess::exchange_frame_lists(const std::vector<Bytes>& lists) {
  SealedFrames out;
  for (const Bytes& list : lists)
    if (auto exchanged = exchange(list, out); !exchanged)
      return crypto::unexpected(exchanged.error());
  return out;
}

Status EnclaveProcess::exchange(ByteView list, SealedFrames& out) {
  return request_in_parts(MsgType::frame_list, list, MsgType::frames_more, MsgType::frames,
                          [&](Message& reply, bool last) -> Status {
                            auto part = parse_frame_list(crypto::MutableByteView{reply.payload.data(), reply.payload.size()});
                            if (!part) return crypto::unexpected(part.error());
                            if (!last && part->empty()) return fail(Errc::protocol, "enclave sent a reply part without frames");
                            out.frames.insert(out.frames.end(), part->begin(), part->end());   // views into the payload, which moves intact
                            out.lists.push_back(std::move(reply.payload));
                            return {};
                          });
}

Status EnclaveProcess::request_in_parts(MsgType type, ByteView payload, MsgType more, MsgType last,
                                        const std::function<Status(Message& part, bool last)>& take) {
  std::size_t parts = 0;
  for (auto reply = request(type, payload, {last, more});; reply = request(MsgType::next_part, {}, {last, more})) {
    if (!reply) return crypto::unexpected(reply.error());
    const bool is_last = reply->type == last;
    if (!is_last && ++parts >= kMaxParts)
      return fail(Errc::protocol, "enclave sent its reply to " + msg_type_name(type) + " in more than " +
                                      std::to_string(kMaxParts) + " parts");
    if (auto taken = take(*reply, is_last); !taken) return taken;
    if (is_last) return {};
  }
}

Result<Bytes> EnclaveProcess::seal_state() {
  Bytes blob;
  auto sealed = request_in_parts(MsgType::seal_state, {}, MsgType::sealed_state_more, MsgType::sealed_state,
                                 [&](Message& part, bool last) -> Status {
                                   if (!last && part.payload.empty())
                                     return fail(Errc::protocol, "enclave sent an empty part of its sealed state");
                                   blob.insert(blob.end(), part.payload.begin(), part.payload.end());
                                   return {};
                                 });
  if (!sealed) return crypto::unexpected(sealed.error());
  return blob;
}

Status EnclaveProcess::unseal_state(ByteView blob) {
  // As many parts as the ring needs: each but the last as unseal_state_more.
  const std::size_t part_bytes = max_frame_list_bytes();
  if (part_bytes > 0 && (blob.size + part_bytes - 1) / part_bytes > kMaxParts)
    return fail(Errc::protocol, "sealed state of " + std::to_string(blob.size) + " bytes needs more than " +
                                    std::to_string(kMaxParts) + " parts of " + std::to_string(part_bytes) +
                                    " bytes (the ring's half)");
  std::size_t at = 0;
  for (; part_bytes > 0 && blob.size - at > part_bytes; at += part_bytes)
    if (auto reply = request(MsgType::unseal_state_more, ByteView(blob.data + at, part_bytes), {MsgType::ok}); !reply)
      return crypto::unexpected(reply.error());
  auto reply = request(MsgType::unseal_state, ByteView(blob.data + at, blob.size - at), {MsgType::ok});
  if (!reply) return crypto::unexpected(reply.error());
  return {};
}

Status EnclaveProcess::install_key(ByteView release) {
  auto reply = request(MsgType::install_key, release, {MsgType::ok});
  if (!reply) return crypto::unexpected(reply.error());
  return {};
}

Status EnclaveProcess::stop() {
  if (!running()) return {};
  auto reply = request(MsgType::stop, {}, {MsgType::ok});
  if (!reply && !running()) return crypto::unexpected(reply.error());   // it was already gone; exited() reaped it
  const std::optional<int> status = wait_for_exit(pid_, launch_.stop_timeout);
  if (status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0) {
    last_exit_ = "enclave process " + std::to_string(pid_) + " was stopped";
    pid_ = -1;
    channel_.reset();
    return {};
  }
  if (status) return crypto::unexpected(exited("on stop", status));
  ::kill(pid_, SIGKILL);
  return crypto::unexpected(exited("(killed: did not stop within " + std::to_string(launch_.stop_timeout.count()) + " ms)"));
}

Status EnclaveProcess::restart() {
  (void)stop();   // whatever state the old enclave was in, it is replaced
  return launch();
}

}  // namespace sg::tee
