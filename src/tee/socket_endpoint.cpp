#include "tee/socket_endpoint.h"

#include <arpa/inet.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

namespace sg::tee {
namespace {

constexpr const char* kForms = "expected tcp:ADDRESS:PORT (numeric IPv4, or [IPv6]) or vsock:CID:PORT";

template <class T>
bool parse_number(const std::string& text, T& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

// The socket address of an endpoint, in storage large enough for any of them.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

SocketAddress socket_address(const SocketEndpoint& e) {
  SocketAddress a;
  if (e.kind == SocketEndpoint::Kind::vsock) {
    auto* vm = reinterpret_cast<sockaddr_vm*>(&a.storage);
    vm->svm_family = AF_VSOCK;
    vm->svm_cid = e.cid;
    vm->svm_port = e.port;   // listen_on maps port 0 to VMADDR_PORT_ANY
    a.length = sizeof(sockaddr_vm);
  } else if (in_addr v4{}; ::inet_pton(AF_INET, e.address.c_str(), &v4) == 1) {
    auto* in = reinterpret_cast<sockaddr_in*>(&a.storage);
    in->sin_family = AF_INET;
    in->sin_addr = v4;
    in->sin_port = htons(uint16_t(e.port));
    a.length = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
    in6->sin6_family = AF_INET6;
    ::inet_pton(AF_INET6, e.address.c_str(), &in6->sin6_addr);   // parse_endpoint checked it
    in6->sin6_port = htons(uint16_t(e.port));
    a.length = sizeof(sockaddr_in6);
  }
  a.family = a.get()->sa_family;
  return a;
}

Error system_error(const std::string& what, const SocketEndpoint& e) {
  return {Errc::io, what + " " + e.text() + ": " + std::strerror(errno)};
}

// Request/reply messages are small as often as large: send each at once.
void set_no_delay(int fd, const SocketEndpoint& e) {
  const int one = 1;
  if (e.kind == SocketEndpoint::Kind::tcp) (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

}  // namespace

std::string SocketEndpoint::text() const {
  if (kind == Kind::vsock) return "vsock:" + std::to_string(cid) + ":" + std::to_string(port);
  const bool v6 = address.find(':') != std::string::npos;
  return "tcp:" + (v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

Result<SocketEndpoint> parse_endpoint(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return fail(Errc::config, "enclave endpoint '" + text + "': " + why + " (" + kForms + ")");
  };
  const auto colon = text.find(':');
  const auto last = text.rfind(':');
  if (colon == std::string::npos || last == colon) return bad("missing a part");
  SocketEndpoint e;
  const std::string scheme = text.substr(0, colon), middle = text.substr(colon + 1, last - colon - 1);
  if (!parse_number(text.substr(last + 1), e.port)) return bad("the port is not a number");
  if (scheme == "vsock") {
    e.kind = SocketEndpoint::Kind::vsock;
    if (!parse_number(middle, e.cid)) return bad("the CID is not a number");
    return e;
  }
  if (scheme != "tcp") return bad("unknown scheme '" + scheme + "'");
  if (e.port > 65535) return bad("the port is not a number from 0 to 65535");
  in_addr v4{};
  in6_addr v6{};
  if (::inet_pton(AF_INET, middle.c_str(), &v4) == 1) {
    e.address = middle;
  } else if (middle.size() > 2 && middle.front() == '[' && middle.back() == ']' &&
             ::inet_pton(AF_INET6, middle.substr(1, middle.size() - 2).c_str(), &v6) == 1) {
    e.address = middle.substr(1, middle.size() - 2);
  } else {
    return bad("'" + middle + "' is not a numeric address");
  }
  return e;
}

Result<UniqueFd> connect_endpoint(const SocketEndpoint& endpoint, std::chrono::milliseconds timeout) {
  const SocketAddress address = socket_address(endpoint);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    UniqueFd fd(::socket(address.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return crypto::unexpected(system_error("socket for", endpoint));
    if (::connect(fd.get(), address.get(), address.length) == 0) {
      set_no_delay(fd.get(), endpoint);
      return fd;
    }
    const bool retry = errno == ECONNREFUSED || errno == ENETUNREACH || errno == EHOSTUNREACH || errno == ECONNRESET ||
                       errno == EINTR || errno == ETIMEDOUT;
    if (!retry || std::chrono::steady_clock::now() >= deadline) return crypto::unexpected(system_error("connect to", endpoint));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Result<Listener> listen_on(const SocketEndpoint& endpoint) {
  SocketAddress address = socket_address(endpoint);
  if (endpoint.kind == SocketEndpoint::Kind::vsock && endpoint.port == 0)   // vsock's port 0 is a real port
    reinterpret_cast<sockaddr_vm*>(&address.storage)->svm_port = VMADDR_PORT_ANY;
  UniqueFd fd(::socket(address.family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return crypto::unexpected(system_error("socket for", endpoint));
  const int one = 1;
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), address.get(), address.length) != 0) return crypto::unexpected(system_error("bind", endpoint));
  if (::listen(fd.get(), 1) != 0) return crypto::unexpected(system_error("listen on", endpoint));
  Listener listener{std::move(fd), endpoint};
  SocketAddress bound;
  bound.length = sizeof bound.storage;
  if (::getsockname(listener.socket.get(), reinterpret_cast<sockaddr*>(&bound.storage), &bound.length) != 0)
    return crypto::unexpected(system_error("getsockname of", endpoint));
  if (endpoint.kind == SocketEndpoint::Kind::vsock)
    listener.endpoint.port = reinterpret_cast<const sockaddr_vm*>(&bound.storage)->svm_port;
  else if (bound.get()->sa_family == AF_INET)
    listener.endpoint.port = ntohs(reinterpret_cast<const sockaddr_in*>(&bound.storage)->sin_port);
  else
    listener.endpoint.port = ntohs(reinterpret_cast<const sockaddr_in6*>(&bound.storage)->sin6_port);
  return listener;
}

Result<UniqueFd> accept_within(const Listener& listener, int timeout_ms) {
  pollfd p{listener.socket.get(), POLLIN, 0};
  int ready = 0;
  while ((ready = ::poll(&p, 1, timeout_ms)) < 0 && errno == EINTR) {
  }
  if (ready < 0) return crypto::unexpected(system_error("poll on", listener.endpoint));
  if (ready == 0) return fail(Errc::timeout, "no connection on " + listener.endpoint.text() + " within " +
                                                 std::to_string(timeout_ms) + " ms");
  UniqueFd fd(::accept4(listener.socket.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd) return crypto::unexpected(system_error("accept on", listener.endpoint));
  set_no_delay(fd.get(), listener.endpoint);
  return fd;
}

}  // namespace sg::tee
