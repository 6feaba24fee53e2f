// `sliceguard identity --out FILE`: an Ed25519 key file (FILE, mode 0600) and its public half (FILE.pub); run
// again, it prints the existing key's public half. A data owner's identity for split fine-tuning, which the
// server operator enrolls (`sliceguard server --enroll FILE.pub`); or, made as <state-dir>/sim_platform.key, a
// federated client machine's sim platform, which a sim server admits with --sim-client-platform FILE.pub.
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "cli/commands.h"
#include "tee/signing_key_file.h"

namespace sg::cli {

crypto::SigningKeyPair load_client_identity(const std::string& path) {
  if (path.empty())
    throw CLI::ValidationError("--identity", "a split client needs its identity key (create one with `sliceguard "
                                             "identity --out FILE`; the server enrolls FILE.pub)");
  if (!std::filesystem::exists(path))
    throw std::runtime_error(path + ": no identity key here; create one with `sliceguard identity --out " + path +
                             "` and have the server enroll " + path + ".pub");
  auto key = tee::load_or_create_signing_key(path, "client identity key");
  if (!key) throw std::runtime_error(key.error().message);
  return std::move(*key);
}

void check_state_not_rewound(const std::string& identity_path, const std::string& measurement, uint64_t generation) {
  const std::string path = identity_path + ".seen.json";
  nlohmann::json seen = nlohmann::json::object();
  if (std::ifstream in(path); in) {
    seen = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
    if (!seen.is_object()) throw std::runtime_error(path + ": not a JSON object of enclave measurement -> state generation");
  }
  const uint64_t newest = seen.value(measurement, uint64_t(0));
  if (generation < newest)
    throw std::runtime_error("the server enclave " + measurement.substr(0, 16) + " runs sealed state generation " +
                             std::to_string(generation) + ", older than generation " + std::to_string(newest) +
                             " this client saw before (" + path + "): its host restored an old blob, rewinding the "
                             "training; refusing to continue");
  seen[measurement] = generation;
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << seen.dump(2) << "\n";
  std::filesystem::rename(tmp, path);
}

void add_identity_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("identity", "Create (or show) an Ed25519 key file: a split client's identity (the "
                                             "server's --enroll) or a sim platform key (--sim-client-platform)");
  auto out = std::make_shared<std::string>();
  cmd->add_option("--out", *out, "Key file to create (its public key goes to FILE.pub)")->required();
  cmd->callback([out] {
    auto key = tee::load_or_create_signing_key(*out, "client identity key");
    if (!key) throw std::runtime_error(key.error().message);
    std::printf("%s\n", crypto::to_hex(key->public_key).c_str());
  });
}

}  // namespace sg::cli
