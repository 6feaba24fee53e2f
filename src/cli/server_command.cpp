// `sliceguard server`: the model owner's side of split fine-tuning. The process itself is the
// untrusted host: it writes the enclave's config (whose job — model, cut layer, method, hyper-parameters — is
// part of the measurement), launches `sliceguard enclave` and relays sealed frames between clients and it over
// gRPC. It never holds a session key or a plaintext activation, label or adapter weight. The enclave's
// trainer is sealed to <state-dir>/sealed_state.bin; a restarted server continues from it.
//
// With a `federated` plan the enclave is the aggregator instead: rounds of client adapters, FedAvg,
// the global adapter sealed back to each client enclave; its state is sealed after every exchange.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <thread>
#include <tuple>
#include <vector>

#include "cli/commands.h"
#include "cli/policy_files.h"
#include "federated/job.h"
#include "net/enclave_host.h"
#include "peft/methods.h"
#include "slicing/plan.h"
#include "split/job.h"
#include "split/model_digest.h"
#include "tee/attestation_sim.h"
#include "tee/enclave_main.h"
#include "tee/evidence.h"
#include "tee/host_enclave_process.h"
#include "tee/signing_key_file.h"

namespace sg::cli {
namespace {

namespace fs = std::filesystem;

struct ServerArgs {
  std::string model_dir, plan_path, listen = "127.0.0.1:50051", tee = "sim", state_dir = "sliceguard-server";
  EnclaveBoundaryArgs boundary;
  std::string record_relay;
  split::SplitJob job;
  federated::ServerJob federated_job;
  double round_timeout_seconds = 60;
  std::string client_policy_path;
  std::string spf_score = "l1";
  bool measure = false;
  double seal_every_seconds = 30;
  std::string mode = "sequential";
  std::string tls_cert, tls_key;
  std::vector<std::string> enrolled;   // client public keys: hex or .pub files
  std::vector<std::string> sim_client_platforms;   // federated, sim: the clients' platform public keys
};

std::string self_executable() { return fs::read_symlink("/proc/self/exe").string(); }

// The tap for --record-relay: every frame the host relays, length-prefixed, as a curious operator would keep it.
net::RelayTap recording_tap(const std::string& path) {
  auto out = std::make_shared<std::ofstream>(path, std::ios::binary);
  if (!*out) throw std::runtime_error(path + ": cannot write the relay record");
  return [out](net::RelayDirection direction, crypto::ByteView frame) {
    const uint8_t dir = direction == net::RelayDirection::to_enclave ? 1 : 2;
    const uint64_t size = frame.size;
    out->write(reinterpret_cast<const char*>(&dir), 1);
    out->write(reinterpret_cast<const char*>(&size), sizeof size);
    out->write(reinterpret_cast<const char*>(frame.data), std::streamsize(frame.size));
    out->flush();
  };
}

// SIGINT/SIGTERM stop the server gracefully. They are blocked in every thread (gRPC's included, which inherit
// the mask) and taken by one waiting thread, the async-signal-safe way to turn them into a shutdown() call.
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// The job the enclave serves, and the relay's name for the plan.
std::pair<std::string, std::string> enclave_job(ServerArgs& args, const slicing::SlicePlan& plan,
                                                const net::HostOptions& host) {
  if (plan.kind == slicing::PlanKind::Federated) {
    args.federated_job.rounds.round_timeout = std::chrono::milliseconds(int64_t(args.round_timeout_seconds * 1000));
    if (args.federated_job.rounds.quorum == 0) args.federated_job.rounds.quorum = args.federated_job.rounds.clients_per_round;
    if (!args.client_policy_path.empty()) {
      args.federated_job.client_policy = read_policy_file(args.client_policy_path);
    } else if (args.tee == "sim") {   // development: client enclaves running this binary on the listed platforms
      args.federated_job.client_policy =
          sim_policy_for_platforms(host, args.sim_client_platforms, "--sim-client-platform (or a --client-policy)");
    } else {
      throw CLI::ValidationError("server", "--client-policy is required for a federated plan with --tee " + args.tee);
    }
    federated::ServerJob::parse(args.federated_job.to_json(), "--rounds/--clients-per-round/--quorum/--min-participants");
    return {args.federated_job.to_json(), "federated"};
  }
  if (args.model_dir.empty()) throw CLI::ValidationError("server", "--model is required for split and u-shaped plans");
  plan.validate_for(model::load_config(args.model_dir));
  auto& trainer = args.job.trainer;
  trainer.model_dir = fs::absolute(args.model_dir).string();
  trainer.cut_layer = plan.cut_layer;
  trainer.head = plan.kind == slicing::PlanKind::Split;
  trainer.method.spf.score = peft::parse_spf_score(args.spf_score);
  trainer.method.spf.seed = trainer.seed;
  args.job.parallel = args.mode == "parallel";
  if (args.enrolled.empty())
    throw CLI::ValidationError("--enroll", "a split or u-shaped server needs the public keys of its clients "
                                           "(each made with `sliceguard identity --out FILE`; enroll FILE.pub)");
  args.job.clients.clear();
  for (const auto& key : args.enrolled) {
    auto parsed = tee::read_verify_key(key);
    if (!parsed) throw CLI::ValidationError("--enroll", parsed.error().message);
    args.job.clients.push_back(*parsed);
  }
  args.job.model_digest = split::slice_digest(trainer);   // the enclave refuses any other weights
  return {args.job.to_json(), slicing::plan_kind_name(plan.kind) + " k=" + std::to_string(plan.cut_layer)};
}

void run_server(ServerArgs args) {
  // Blocked before anything starts a thread (loading the slice for its digest starts LibTorch's), so that
  // every thread inherits the mask and only the waiting thread below takes the signals.
  const sigset_t signals = stop_signals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  const auto plan = slicing::SlicePlan::load(args.plan_path);
  const bool federated = plan.kind == slicing::PlanKind::Federated;
  net::HostOptions host;
  host.enclave_binary = self_executable();
  host.backend = args.tee;
  apply_enclave_boundary(args.boundary, host);
  host.state_dir = args.state_dir;
  std::tie(host.job_json, host.relay.plan_name) = enclave_job(args, plan, host);
  host.relay.listen = args.listen;
  if (!args.record_relay.empty()) host.relay.tap = recording_tap(args.record_relay);
  host.relay.tls_cert_path = args.tls_cert;
  host.relay.tls_key_path = args.tls_key;
  host.relay.seal_path = (fs::path(args.state_dir) / "sealed_state.bin").string();
  // Federated: the global state is sealed after every exchange, so after every round at the latest.
  host.relay.seal_every = federated ? std::chrono::milliseconds(0)
                                    : std::chrono::milliseconds(int64_t(args.seal_every_seconds * 1000));
  if (args.tee == "sim") spdlog::warn(tee::kSimWarning);
  if (args.measure) {   // computed here from the binary and config, not reported by a running enclave
    const std::string config_path = net::write_enclave_config(host);
    if (args.tee != "sim") {
      // The hardware measures the image (gramine-sgx-sign prints MRENCLAVE; a CVM's MRTD / MEASUREMENT comes from
      // its launch); what this host decides is the config, which the enclave binds into its report data.
      std::ifstream in(config_path, std::ios::binary);
      const tee::Bytes config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      const auto digest = tee::config_digest_of(config);
      std::fprintf(stderr, "server: %s's measurement comes from the platform's tooling; the clients' policy lists "
                           "this config digest of %s in allowed_configs:\n", args.tee.c_str(), config_path.c_str());
      std::printf("%s\n", crypto::to_hex(tee::ByteView(digest.data(), digest.size())).c_str());
      return;
    }
    const auto measurement = tee::enclave_measurement_hex(args.tee, config_path);
    if (!measurement) throw std::runtime_error(measurement.error().message);
    std::printf("%s\n", measurement->c_str());
    return;
  }

  auto server = net::EnclaveHost::start(host);
  std::printf("server: enclave measurement %s\n", server->measurement_hex().c_str());
  if (!server->sim_client_policy().empty())
    std::printf("server: development client policy (sim) in %s\n", server->sim_client_policy().c_str());
  std::thread([&server, signals] {
    int received = 0;
    sigwait(&signals, &received);
    std::fprintf(stderr, "server: signal %d, shutting down\n", received);
    server->relay().shutdown();
  }).detach();
  std::printf("server: listening on port %d (plan %s, tee %s, enclave pid %d)\n", server->port(),
              host.relay.plan_name.c_str(), args.tee.c_str(), int(server->enclave().pid()));
  std::fflush(stdout);
  server->relay().wait();
}

}  // namespace

void add_server_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("server", "Serve split fine-tuning (an attested enclave trains the latter layers) or "
                                           "federated fine-tuning (an attested enclave aggregates the clients' adapters)");
  auto args = std::make_shared<ServerArgs>();
  auto& t = args->job.trainer;
  cmd->add_option("--model", args->model_dir, "Base checkpoint directory (split and u-shaped plans)")->check(CLI::ExistingDirectory);
  cmd->add_option("--plan", args->plan_path, "Slice plan (JSON)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--listen", args->listen, "host:port to listen on (port 0 = any free port)")->capture_default_str();
  cmd->add_option("--tee", args->tee, "TEE backend")->check(CLI::IsMember({"sim", "gramine", "tsm"}))->capture_default_str();
  add_enclave_boundary_options(*cmd, args->boundary);
  cmd->add_option("--state-dir", args->state_dir, "Enclave config, sim platform key, client policy")->capture_default_str();
  cmd->add_option("--enroll", args->enrolled, "split: the clients allowed to use the enclave — their public keys "
                                              "(FILE.pub of `sliceguard identity`, or 64 hex digits)");
  cmd->add_option("--max-batch-tokens", args->job.max_batch_tokens,
                  "split: most tokens (batch x sequence) per request; larger requests are refused unread")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--method", t.method.method, "lora | spf | spf+lora (on the server's layers)")
      ->check(CLI::IsMember({"lora", "spf", "spf+lora"}))->capture_default_str();
  cmd->add_option("--lora-r", t.method.lora.r, "LoRA rank")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--lora-alpha", t.method.lora.alpha, "LoRA alpha")->capture_default_str();
  cmd->add_option("--lora-dropout", t.method.lora.dropout, "LoRA dropout")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--spf-density", t.method.spf.density, "SPF: fraction of heads/neurons per layer")
      ->check(CLI::Range(0.0, 1.0))->capture_default_str();
  cmd->add_option("--spf-score", args->spf_score, "SPF unit score: l1 | random")
      ->check(CLI::IsMember({"l1", "random"}))->capture_default_str();
  cmd->add_option("--lr", t.optimizer.lr, "Peak learning rate (AdamW)")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--weight-decay", t.optimizer.weight_decay, "AdamW weight decay")->capture_default_str();
  cmd->add_option("--warmup", t.optimizer.warmup_steps, "Linear warmup steps")->capture_default_str();
  cmd->add_option("--max-grad-norm", t.optimizer.max_grad_norm, "Gradient clipping (0 = off)")->capture_default_str();
  cmd->add_option("--grad-accum", t.optimizer.accumulation, "Micro-batches per optimiser step")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--total-steps", t.total_steps, "Schedule length (0 = the first client's run)")->capture_default_str();
  cmd->add_option("--seed", t.seed, "Seed for adapter init and dropout")->capture_default_str();
  cmd->add_option("--enclave-threads", args->job.threads, "LibTorch threads in the enclave")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--mode", args->mode, "sequential (one shared server state) | parallel (per-client copies, averaged: SplitFed)")
      ->check(CLI::IsMember({"sequential", "parallel"}))->capture_default_str();
  cmd->add_option("--average-every", args->job.average_every, "parallel: steps of a client copy between averages")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--seal-every-steps", args->job.seal_every,
                  "Enclave snapshots its trainer every N optimiser steps (0 = never)")->capture_default_str();
  cmd->add_option("--seal-every-seconds", args->seal_every_seconds,
                  "Host persists the sealed snapshot at most this often (0 = after every exchange)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--tls-cert", args->tls_cert, "TLS certificate (PEM) for the outer transport")->check(CLI::ExistingFile);
  cmd->add_option("--tls-key", args->tls_key, "TLS private key (PEM)")->check(CLI::ExistingFile);
  cmd->add_option("--record-relay", args->record_relay, "Write every relayed frame here (what the host sees)");
  auto& rounds = args->federated_job.rounds;
  rounds.quorum = 0;   // default: clients_per_round
  cmd->add_option("--rounds", rounds.rounds, "federated: rounds of local steps + FedAvg")->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--clients-per-round", rounds.clients_per_round, "federated: a round closes when this many clients submitted")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--quorum", rounds.quorum, "federated: ... or after --round-timeout with at least this many (default: all)");
  cmd->add_option("--clients", args->federated_job.clients,
                  "federated: clients expected; more than --clients-per-round draws each round's clients at random")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--min-participants", args->federated_job.min_participants,
                  "federated, secure aggregation: the smallest participant set (--quorum must reach it)")
      ->capture_default_str();
  cmd->add_flag("--secure-aggregation", args->federated_job.secure_aggregation,
               "federated: pairwise-mask secure aggregation (the enclave learns only each round's sum)");
  cmd->add_option("--client-policy", args->client_policy_path,
                  "federated: which client enclaves may join (default with sim: this binary on the --sim-client-platform keys)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--sim-client-platform", args->sim_client_platforms,
                  "federated, sim: the client machines' sim platform public keys (hex or .pub files) whose enclaves "
                  "may join (default client policy: this binary on those platforms)");
  cmd->add_option("--round-timeout", args->round_timeout_seconds, "federated: seconds after a round's first submission")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_flag("--measure", args->measure,
                "Print the enclave measurement a client policy should allow (sim), or for gramine / tsm the config "
                "digest its allowed_configs lists, and exit");
  cmd->callback([args] { run_server(*args); });
}

}  // namespace sg::cli
