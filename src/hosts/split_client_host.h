// A split data owner's host, put together once for the CLI, the bench and the tests: the attested
// session with the server enclave (through the server's host), as an enrolled client, and the client slice of
// the model that talks over it.
#pragma once

#include <memory>
#include <string>

#include "crypto/signing.h"
#include "net/remote_enclave.h"
#include "slicing/plan.h"
#include "split/client.h"
#include "tee/policy.h"

namespace sg::hosts {

class SplitClientHost {
 public:
  // Connects to the server's host, verifies its enclave's evidence against `policy`, opens the session as
  // `identity`, then loads the plan's client slice of `model_dir`. Throws std::runtime_error naming what failed
  // (unreachable server, refused evidence or session, a plan that does not fit the model).
  SplitClientHost(const std::string& model_dir, const slicing::SlicePlan& plan, const net::ConnectOptions& server,
                  const tee::Policy& policy, const crypto::SigningKeyPair& identity);

  split::SplitClient& client() { return *client_; }
  net::RemoteEnclave& enclave() { return *enclave_; }

 private:
  std::unique_ptr<net::RemoteEnclave> enclave_;   // declared first: the client's transport uses it
  std::unique_ptr<split::SplitClient> client_;
};

}  // namespace sg::hosts
