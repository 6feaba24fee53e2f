// The options of a command that launches its own enclave (`server`, a federated `client`) for how its host reaches
// that enclave: the transport, where a tcp host listens, and what runs the enclave (e.g. gramine-sgx).
#include <CLI/CLI.hpp>

#include <iterator>
#include <sstream>

#include "cli/commands.h"
#include "net/enclave_host.h"

namespace sg::cli {

void add_enclave_boundary_options(CLI::App& command, EnclaveBoundaryArgs& args) {
  command.add_option("--enclave-transport", args.transport,
                     "how this host reaches its enclave: ring (shared memory), tcp (a stream the enclave connects "
                     "back on: Gramine), auto (tcp for --tee gramine, ring otherwise)")
      ->check(CLI::IsMember({"auto", "ring", "tcp"}))
      ->capture_default_str();
  command.add_option("--enclave-listen", args.listen,
                     "tcp transport: where this host waits for its enclave (port 0: any free one; a Gramine "
                     "manifest fixes the port its enclave connects to)")
      ->capture_default_str();
  command.add_option("--enclave-launcher", args.launcher,
                     "what runs the enclave, before its arguments, e.g. \"/usr/bin/gramine-sgx "
                     "/etc/sliceguard/sliceguard-enclave\" (default: this binary)");
}

void apply_enclave_boundary(const EnclaveBoundaryArgs& args, net::HostOptions& host) {
  host.enclave_transport = args.transport;
  host.enclave_listen = args.listen;
  std::istringstream words(args.launcher);
  host.enclave_launcher.assign(std::istream_iterator<std::string>(words), std::istream_iterator<std::string>());
}

}  // namespace sg::cli
