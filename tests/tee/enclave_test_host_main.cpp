// sg_enclave_test_host: the `enclave` subcommand alone, built from the same src/cli/enclave_command.cpp and
// src/tee code as `sliceguard enclave`, without the LibTorch-linked rest of the CLI. Tests launch it as the
// enclave process: `sg_enclave_test_host enclave --backend sim --config FILE ...`. One test service, for replies
// and trusted state as large as a test needs: a `message` frame whose first byte is K is answered with K echo frames
// of it; when its second byte is 1, with one echo frame of K copies; when it is 2, the enclave keeps K MiB (bytes
// i * 131 + the third byte) as the trusted state "test" and answers with one empty echo frame; when it is 3, the
// answer is that state in echo frames of 1 MiB.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <exception>
#include <iostream>

#include "cli/commands.h"
#include "tee/enclave_runtime.h"

int main(int argc, char** argv) {
  CLI::App app{"SliceGuard enclave (test host)"};
  app.require_subcommand(1);
  sg::cli::add_enclave_command(app, [](sg::tee::EnclaveRuntime& runtime, const sg::tee::EnclaveConfig&) {
    runtime.frames().add(sg::crypto::PayloadKind::message, [&runtime](sg::tee::EnclaveSession&, sg::tee::ByteView plaintext)
                                                                -> sg::tee::Result<std::vector<sg::tee::OutgoingPayload>> {
      const std::size_t copies = plaintext.size == 0 ? 0 : plaintext.data[0];
      const int command = plaintext.size < 2 ? 0 : plaintext.data[1];
      if (command == 2 && plaintext.size >= 3) {
        sg::tee::Bytes& state = runtime.state()["test"];
        state.resize(copies << 20);
        for (std::size_t i = 0; i < state.size(); ++i) state[i] = uint8_t(i * 131 + plaintext.data[2]);
        return std::vector<sg::tee::OutgoingPayload>{{sg::crypto::PayloadKind::echo, {}}};
      }
      if (command == 3) {
        const sg::tee::Bytes& state = runtime.state()["test"];
        std::vector<sg::tee::OutgoingPayload> parts;
        for (std::size_t at = 0; at < state.size(); at += 1 << 20)
          parts.push_back({sg::crypto::PayloadKind::echo,
                           sg::tee::Bytes(state.begin() + std::ptrdiff_t(at),
                                          state.begin() + std::ptrdiff_t(std::min(state.size(), at + (1 << 20))))});
        return parts;
      }
      if (command != 1)
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
