#include "hosts/split_client_host.h"

namespace sg::hosts {

SplitClientHost::SplitClientHost(const std::string& model_dir, const slicing::SlicePlan& plan,
                                 const net::ConnectOptions& server, const tee::Policy& policy,
                                 const crypto::SigningKeyPair& identity)
    : enclave_(net::RemoteEnclave::connect(server, policy, &identity)),
      client_(std::make_unique<split::SplitClient>(
          model_dir, plan, [&enclave = *enclave_](const crypto::Envelope& request) { return enclave.call(request); })) {}

}  // namespace sg::hosts
