// sliceguard: one command, many subcommands (see commands.h). Exit codes: 0 ok, 2 usage, 1 runtime error.
#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <exception>
#include <iostream>

#include "cli/commands.h"
#include "split/enclave_service.h"

int main(int argc, char** argv) {
  // stdout carries results (tables, measurements, ports); every log line goes to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("sliceguard"));
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
  sg::cli::add_enclave_command(app, sg::split::install_split_service);   // serves a config's split job
  sg::cli::add_server_command(app);
  sg::cli::add_client_command(app);
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
