// sg_enclave_test_host: the `enclave` subcommand alone, built from the same src/cli/enclave_command.cpp and
// src/tee code as `sliceguard enclave`, without the LibTorch-linked rest of the CLI. Tests launch it as the
// enclave process: `sg_enclave_test_host enclave --backend sim --config FILE ...`. One test service, for replies
// as large as a test needs: a `message` frame whose first byte is K is answered with K echo frames of it, or, when
// its second byte is 1, with one echo frame of K copies.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "cli/commands.h"
#include "tee/enclave_runtime.h"

int main(int argc, char** argv) {
  CLI::App app{"SliceGuard enclave (test host)"};
  app.require_subcommand(1);
  sg::cli::add_enclave_command(app, [](sg::tee::EnclaveRuntime& runtime, const sg::tee::EnclaveConfig&) {
    runtime.frames().add(sg::crypto::PayloadKind::message, [](sg::tee::EnclaveSession&, sg::tee::ByteView plaintext)
                                                                -> sg::tee::Result<std::vector<sg::tee::OutgoingPayload>> {
      const std::size_t copies = plaintext.size == 0 ? 0 : plaintext.data[0];
      if (plaintext.size < 2 || plaintext.data[1] != 1)
        return std::vector<sg::tee::OutgoingPayload>(copies, {sg::crypto::PayloadKind::echo, plaintext.to_bytes()});
      sg::tee::Bytes joined;
      for (std::size_t i = 0; i < copies; ++i) joined.insert(joined.end(), plaintext.data, plaintext.data + plaintext.size);
      return std::vector<sg::tee::OutgoingPayload>{{sg::crypto::PayloadKind::echo, std::move(joined)}};
    });
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
