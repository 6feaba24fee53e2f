// Where a stream transport's enclave reaches its host: "tcp:ADDRESS:PORT" (a numeric IPv4 address, or an IPv6 one
// in brackets) or "vsock:CID:PORT" (CID 2 is the hypervisor's host). The host listens and the enclave connects, so
// a host needs no address inside a guest it cannot see into. The host library listens only for an enclave it
// launched itself (loopback TCP); vsock endpoints parse, listen and connect, but no host here waits on one yet.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "tee/error.h"
#include "tee/unique_fd.h"

namespace sg::tee {

struct SocketEndpoint {
  enum class Kind { tcp, vsock };
  Kind kind = Kind::tcp;
  std::string address;   // tcp: the numeric address (no brackets)
  uint32_t cid = 0;      // vsock
  uint32_t port = 0;     // tcp: at most 65535; vsock: 32 bits

  std::string text() const;   // as parse_endpoint reads it
};

// Errc::config naming the form expected, for anything else (names are not resolved).
[[nodiscard]] Result<SocketEndpoint> parse_endpoint(const std::string& text);

// Connects, retrying a refused or unreachable peer until `timeout` (a host may start listening after its enclave).
[[nodiscard]] Result<UniqueFd> connect_endpoint(const SocketEndpoint& endpoint, std::chrono::milliseconds timeout);

struct Listener {
  UniqueFd socket;
  SocketEndpoint endpoint;   // with the port the kernel chose when asked for port 0
};
// Listens on `endpoint` (port 0: any free port, on vsock too) for one peer at a time.
[[nodiscard]] Result<Listener> listen_on(const SocketEndpoint& endpoint);
// Accepts one connection, waiting up to `timeout_ms`; Errc::timeout when none came.
[[nodiscard]] Result<UniqueFd> accept_within(const Listener& listener, int timeout_ms);

}  // namespace sg::tee
