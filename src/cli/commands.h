// The `sliceguard` subcommands. Each add_* registers one subcommand on `app`; its callback does the work
// and throws on runtime errors (main maps: usage error -> exit 2, runtime error -> exit 1).
#pragma once

#include <cstdint>
#include <string>

#include "crypto/signing.h"
#include "tee/enclave_main.h"

namespace CLI {
class App;
}
namespace sg::net {
struct HostOptions;
}

namespace sg::cli {

void add_inspect_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_data_command(CLI::App& app);
void add_pretrain_command(CLI::App& app);
void add_finetune_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_merge_command(CLI::App& app);
// `install` registers the protocols the enclave serves (the test enclave host passes none).
void add_enclave_command(CLI::App& app, tee::ServiceInstaller install = {});
// How a command that launches an enclave (server; a federated client) reaches it: --enclave-transport,
// --enclave-listen, --enclave-launcher.
struct EnclaveBoundaryArgs {
  std::string transport = "auto", listen = "tcp:127.0.0.1:0", launcher;
};
void add_enclave_boundary_options(CLI::App& command, EnclaveBoundaryArgs& args);
void apply_enclave_boundary(const EnclaveBoundaryArgs& args, net::HostOptions& host);
void add_server_command(CLI::App& app);
void add_client_command(CLI::App& app);
void add_identity_command(CLI::App& app);
void add_attest_command(CLI::App& app);

// The split client identity key at `path` (identity_command.cpp); throws, saying how to create one, when absent.
crypto::SigningKeyPair load_client_identity(const std::string& path);
// Refuses (throws) a server enclave whose sealed-state generation is older than the newest this client saw of
// that measurement, and remembers the newest in `<identity_path>.seen.json`.
void check_state_not_rewound(const std::string& identity_path, const std::string& measurement, uint64_t generation);

}  // namespace sg::cli
