// sg_enclave_test_host: the `enclave` subcommand alone, built from the same src/cli/enclave_command.cpp and
// src/tee code as `sliceguard enclave`, without the LibTorch-linked rest of the CLI. Tests launch it as the
// enclave process: `sg_enclave_test_host enclave --backend sim --config FILE ...`.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"SliceGuard enclave (test host)"};
  app.require_subcommand(1);
  sg::cli::add_enclave_command(app);
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
