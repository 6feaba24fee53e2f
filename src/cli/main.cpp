// sliceguard: one command, many subcommands (see commands.h). Exit codes: 0 ok, 2 usage, 1 runtime error.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "federated/adapter_service.h"
#include "federated/aggregator_service.h"
#include "split/enclave_service.h"
#include "runtime/process_tuning.h"

namespace {

// The protocols a `sliceguard enclave` serves, chosen by its config's job kind (none: only the built-ins).
void install_enclave_services(sg::tee::EnclaveRuntime& runtime, const sg::tee::EnclaveConfig& config) {
  if (config.job.empty()) return;
  const auto kind = nlohmann::json::parse(config.job).value("kind", std::string());
  if (kind == "split") {
    sg::split::install_split_service(runtime, config);
  } else if (kind == "federated-client") {
    sg::federated::install_client_adapter_service(runtime, config);
  } else if (kind == "federated-server") {
    sg::federated::install_aggregator_service(runtime, config);
  } else {
    throw std::invalid_argument("job field 'kind': \"" + kind + "\" is not one of split, federated-client, federated-server");
  }
}

// Commands that share the cores with another compute process: the host beside its enclave, the enclave itself.
bool shares_cores(int argc, char** argv) {
  if (argc < 2) return false;
  const std::string command = argv[1];
  return command == "client" || command == "server" || command == "enclave";
}

}  // namespace

int main(int argc, char** argv) {
  if (shares_cores(argc, argv)) sg::runtime::ensure_passive_thread_waits(argv);
  // stdout carries results (tables, measurements, ports); every log line goes to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("sliceguard"));
  if (!sg::runtime::keep_freed_memory())
    spdlog::warn("the allocator refused its settings: steps will fault fresh pages in (slower, not wrong)");
  CLI::App app{"SliceGuard: secure distributed fine-tuning of LLMs"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sliceguard 0.1.0");
  sg::cli::add_inspect_command(app);
  sg::cli::add_generate_command(app);
  sg::cli::add_data_command(app);
  sg::cli::add_pretrain_command(app);
  sg::cli::add_finetune_command(app);
  sg::cli::add_eval_command(app);
  sg::cli::add_merge_command(app);
  sg::cli::add_enclave_command(app, install_enclave_services);
  sg::cli::add_server_command(app);
  sg::cli::add_client_command(app);
  sg::cli::add_identity_command(app);
  sg::cli::add_attest_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
