#include "cli/policy_files.h"

#include <CLI/CLI.hpp>

#include <fstream>
#include <iterator>
#include <stdexcept>

#include "crypto/bytes.h"
#include "tee/policy.h"
#include "tee/signing_key_file.h"

namespace sg::cli {

std::string read_policy_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot read");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (auto policy = tee::Policy::parse(text, path); !policy) throw std::runtime_error(policy.error().message);
  return text;
}

std::string sim_policy_for_platforms(const net::HostOptions& host, const std::vector<std::string>& pub_files,
                                     const std::string& option) {
  std::vector<std::string> platforms;
  for (const auto& file : pub_files) {
    auto key = tee::read_verify_key(file);
    if (!key) throw CLI::ValidationError(option, key.error().message);
    platforms.push_back(crypto::to_hex(*key));
  }
  if (platforms.empty())
    throw CLI::ValidationError(option, "needs the public keys of the clients' sim platforms (each client's "
                                       "<state-dir>/sim_platform.key.pub)");
  return net::sim_peer_policy(host, platforms);
}

}  // namespace sg::cli
