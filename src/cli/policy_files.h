// Attestation policies as the federated commands take them: a policy file's text, checked, or (sim only) a
// development policy admitting this binary on the listed sim platforms (their .pub files).
#pragma once

#include <string>
#include <vector>

#include "net/enclave_host.h"

namespace sg::cli {

// The policy JSON in `path`; throws naming the file when it cannot be read or is not a valid policy.
std::string read_policy_file(const std::string& path);

// A sim policy for enclaves running `host`'s binary on the platforms whose public key files are `pub_files`;
// throws CLI::ValidationError naming `option` for an unreadable key or none.
std::string sim_policy_for_platforms(const net::HostOptions& host, const std::vector<std::string>& pub_files,
                                     const std::string& option);

}  // namespace sg::cli
