// The errors of sg_tee. Messages are one line and name the thing at fault (file, field, message type, pid).
#pragma once

#include <string>

#include "crypto/expected.h"

namespace sg::tee {

enum class Errc {
  io,              // a system call failed
  config,          // an enclave config or policy file is unusable
  protocol,        // a host<->enclave message violates the wire format
  closed,          // the other end closed the host<->enclave channel
  rejected,        // the enclave answered a request with an error
  enclave_exited,  // the enclave process is gone (crashed, killed, or stopped)
  timeout,         // no reply in time
  evidence,        // evidence is malformed or does not verify
  policy,          // evidence verifies but the policy refuses it
  unsupported,     // the backend cannot do this here (no quote verifier, no sealing key, ...)
};

struct Error {
  Errc code;
  std::string message;
};

template <class T>
using Result = crypto::Expected<T, Error>;
using Status = crypto::Expected<void, Error>;

[[nodiscard]] inline crypto::Unexpected<Error> fail(Errc code, std::string message) {
  return {Error{code, std::move(message)}};
}

}  // namespace sg::tee
