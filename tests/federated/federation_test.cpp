// Method 1 end to end with real enclave processes: a server enclave aggregating (net::EnclaveHost with a
// federated-server job) and client enclaves holding the LoRA pairs, each client enclave the end point of its
// session with the server enclave while its host relays sealed frames.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "data/dataset.h"
#include "federated/federation.h"
#include "federated/job.h"
#include "federated/local_steps.h"
#include "hosts/federated_client_host.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "net/enclave_host.h"
#include "net/remote_enclave.h"
#include "peft/methods.h"
#include "rpc/tensor_wire.h"
#include "tee/host_enclave_process.h"
#include "tee/attestation_sim.h"
#include "tee/host_local_session.h"
#include "federated/fixtures.h"
#include "support/temp_dir.h"
#include "train/finetune.h"

namespace sg::federated {
namespace {

using test_support::TempDir;

ClientJob client_job(const std::string& server_policy_path, double lr = 1e-2) {
  ClientJob j;
  j.lora.r = 4;
  j.lora.alpha = 8;
  j.lora.target_modules = {"q_proj", "v_proj", "down_proj"};
  j.optimizer.lr = lr;
  j.optimizer.warmup_steps = 2;
  j.seed = 5;
  std::ifstream in(server_policy_path);
  j.server_policy.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return j;
}

// The aggregating server: its enclave and the relay, recording every frame the host relays.
struct Server {
  TempDir dir;
  std::mutex mutex;
  std::vector<crypto::Bytes> relayed;
  std::unique_ptr<net::EnclaveHost> host;

  // The client policy admits client enclaves running this build on this (sim) platform, unless given.
  explicit Server(const RoundOptions& rounds, const std::string& state_dir = "", std::string client_policy = "",
                  bool secure_aggregation = false, int clients = 0, int min_participants = 3) {
    net::HostOptions options;
    options.enclave_binary = SG_SLICEGUARD;
    options.state_dir = state_dir.empty() ? dir.path() + "/server" : state_dir;
    ServerJob job;
    job.rounds = rounds;
    job.secure_aggregation = secure_aggregation;
    job.clients = clients;
    job.min_participants = min_participants;
    // The client machine's platform, not the server's; beside the state dir, so a restarted server (same state
    // dir) admits the same client platform.
    client_platform_key = (std::filesystem::path(options.state_dir).parent_path() / "client_platform.key").string();
    const auto client_platform = tee::load_or_create_platform_key(client_platform_key).value();
    job.client_policy = client_policy.empty()
                            ? net::sim_peer_policy(options, {crypto::to_hex(client_platform.public_key)})
                            : client_policy;
    admission_policy = job.client_policy;
    options.job_json = job.to_json();
    options.relay.listen = "127.0.0.1:0";
    options.relay.seal_path = options.state_dir + "/sealed_state.bin";
    options.relay.seal_every = std::chrono::milliseconds(0);
    options.relay.tap = [this](net::RelayDirection, crypto::ByteView frame) {
      std::lock_guard lock(mutex);
      relayed.push_back(frame.to_bytes());
    };
    host = net::EnclaveHost::start(options);
  }
  std::string client_platform_key;   // the sim platform the test's client enclaves run on
  std::string admission_policy;      // the client enclaves the server enclave admits (its job's client_policy)
};

// A client job that sends its adapter only through secure aggregation, among the client enclaves `peer_policy`
// admits.
ClientJob secure_job(ClientJob job, const std::string& peer_policy) {
  job.peer_policy = peer_policy;
  job.secure_aggregation = true;
  return job;
}

using AroundCall = decltype(hosts::FederatedClientOptions::around_call);

// A data owner: the frozen model here, its enclave holding the LoRA pairs (every boundary frame recorded).
struct Client {
  TempDir dir;
  std::vector<crypto::Bytes> boundary;
  model::Transformer model = model::Transformer::load(kModel);
  std::unique_ptr<hosts::FederatedClientHost> host;
  RemoteAdapter* adapter = nullptr;
  ServerLink link;

  // Seals the client enclave's state after every round, as `sliceguard client` does.
  FederationOptions sealing_state_changes() { return host->sealing_state_changes(); }

  // `state_dir`: where its enclave's config and sealed state live (default: a fresh directory); `platform_key`:
  // its sim platform (default: the one the server's default policy admits).
  // `around_call`: runs around each call to its enclave (a test's fault injection).
  Client(const ClientJob& job, const Server& server, const std::string& state_dir = "", const std::string& platform_key = "",
         AroundCall around_call = {}) {
    hosts::FederatedClientOptions own;
    own.enclave.enclave_binary = SG_SLICEGUARD;
    own.enclave.state_dir = state_dir.empty() ? dir.path() : state_dir;
    own.enclave.relay.seal_path = own.enclave.state_dir + "/sealed_state.bin";   // restored at launch when present
    own.enclave.job_json = job.to_json();
    own.enclave.sim_platform_key = platform_key.empty() ? server.client_platform_key : platform_key;
    own.tap = [this](crypto::ByteView f) { boundary.push_back(f.to_bytes()); };
    own.around_call = std::move(around_call);
    host = std::make_unique<hosts::FederatedClientHost>(std::move(own));
    adapter = &host->attach(model);
    reconnect(server);
  }

  // A new connection to `server`'s host (a restarted server); attestation comes with connect_to_server.
  void reconnect(const Server& server) {
    host->open_server({.server = server.host->address()});
    link = host->link();
  }
};

train::TrainOptions options(int steps) {
  train::TrainOptions o;
  o.max_steps = steps;
  o.seed = 5;
  o.log_every = 1000;
  return o;
}

// Runs every client's federation at once (client i on data slice i, `steps` local steps): each one's result, or
// the error that ended it.
struct Outcome {
  FederationResult result;
  std::string error;
};
std::vector<Outcome> federate_concurrently(std::vector<std::unique_ptr<Client>>& clients, int steps) {
  auto tokenizer = model::Tokenizer::load(kModel);
  std::vector<Outcome> out(clients.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    threads.emplace_back([&, i] {
      auto& c = *clients[i];
      connect_to_server(*c.adapter, c.link);
      try {
        out[i].result = run_federation(c.model, *c.adapter, c.link, dataset(i * 16, 16), *tokenizer, options(steps), batching());
      } catch (const std::runtime_error& e) {
        out[i].error = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  return out;
}

RoundOptions rounds(int n, int clients, int quorum, std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  return {n, clients, quorum, timeout};
}

bool contains(const std::vector<crypto::Bytes>& frames, const crypto::Bytes& needle) {
  return std::any_of(frames.begin(), frames.end(), [&](const crypto::Bytes& f) {
    return std::search(f.begin(), f.end(), needle.begin(), needle.end()) != f.end();
  });
}

// One client and one round are local training with the client's method; the global adapter the server enclave
// sends back (installed in the client enclave) scores as the local adapter does.
void expect_one_round_equals_local_training(const ClientJob& job, Server& server) {
  Client client(job, server);
  connect_to_server(*client.adapter, client.link);
  auto tokenizer = model::Tokenizer::load(kModel);
  const auto data = dataset(0, 48);
  const auto result = run_federation(client.model, *client.adapter, client.link, data, *tokenizer, options(6), batching());
  ASSERT_EQ(result.rounds, 1);
  EXPECT_EQ(result.contributors, std::vector<int>{1});

  auto local = model::Transformer::load(kModel);
  peft::MethodOptions method;
  method.method = job.method;
  method.lora = job.lora;
  method.prefix = job.prefix;
  auto o = options(6);
  o.optimizer = job.optimizer;
  const auto trained = train::finetune(local, method, train::shuffled_epochs(data, *tokenizer, batching()), o);
  ASSERT_EQ(result.local.losses.size(), trained.result.losses.size());
  // Relative, as in client_enclave_test.cpp: fused SDPA locally, per-part attention merged by log-sum-exp in the
  // enclave.
  for (std::size_t i = 0; i < trained.result.losses.size(); ++i)
    EXPECT_NEAR(result.local.losses[i], trained.result.losses[i], 1e-5 * std::abs(trained.result.losses[i]))
        << "step " << i + 1;
  torch::NoGradGuard no_grad;
  const auto ids = torch::randint(0, 1000, {2, 12}, torch::kInt64);
  const auto mask = torch::ones({2, 12}, torch::kInt64);
  EXPECT_TRUE(torch::allclose(client.adapter->logits(client.model, ids, mask), trained.adapters.logits(local, ids, mask),
                              1e-4, 1e-4));
}

TEST(Federation, OneClientOneRoundEqualsLocalLoraTraining) {
  Server server(rounds(1, 1, 1));
  expect_one_round_equals_local_training(client_job(server.host->sim_client_policy()), server);
}

TEST(Federation, OneClientOneRoundEqualsLocalPTuningWithThePrefixInTheEnclaves) {
  Server server(rounds(1, 1, 1));
  auto job = client_job(server.host->sim_client_policy());
  job.method = "ptuning";
  job.prefix.num_virtual_tokens = 4;
  job.prefix.prefix_projection = true;   // the server enclave averages the encoder's parameters too
  expect_one_round_equals_local_training(job, server);
}

TEST(Federation, TheAdapterIsNeverPlaintextOnTheWireOrTheClientBoundary) {
  Server server(rounds(1, 1, 1));
  // lr 0: the adapter the client enclave submits is exactly its seeded init, a needle the test can compute.
  const auto job = client_job(server.host->sim_client_policy(), /*lr=*/0.0);
  Client client(job, server);
  connect_to_server(*client.adapter, client.link);
  auto tokenizer = model::Tokenizer::load(kModel);
  run_federation(client.model, *client.adapter, client.link, dataset(0, 16), *tokenizer, options(2), batching());

  torch::manual_seed(job.seed);
  auto reference = model::Transformer::load(kModel);
  peft::MethodOptions method;
  method.lora = job.lora;
  auto adapters = peft::attach_method(reference, method);
  ASSERT_GT(server.relayed.size(), 4u);
  for (const auto& [name, adapter] : adapters.lora->modules()) {
    const auto needle = rpc::to_wire("a", adapter->a().flatten().narrow(0, 0, 8).contiguous()).data;
    const auto whole = rpc::to_wire("a", adapter->a()).data;
    ASSERT_NE(std::search(whole.begin(), whole.end(), needle.begin(), needle.end()), whole.end());   // control
    EXPECT_FALSE(contains(server.relayed, needle)) << name << " on the network";
    EXPECT_FALSE(contains(client.boundary, needle)) << name << " at the client host<->enclave boundary";
  }
}

TEST(Federation, TheServerEnclaveAdmitsOnlyClientEnclavesItsPolicyAllows) {
  // Allowed code that is not this build: the client enclave is refused before any frame.
  Server strict(rounds(1, 1, 1), "", R"({"allowed_backends":["sim"],"allow_sim":true,"allowed_code":[")" +
                                         std::string(64, 'a') + R"("],"sim_platform_keys":[")" +
                                         std::string(64, 'b') + R"("]})");
  Client refused(client_job(strict.host->sim_client_policy()), strict);
  try {
    connect_to_server(*refused.adapter, refused.link);
    FAIL() << "a client enclave outside the client policy opened a session";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("peer refused"), std::string::npos) << e.what();
  }
  // A host that attests the server itself but has no enclave of its own to show is refused too.
  Server server(rounds(1, 1, 1));
  const auto policy = tee::Policy::load(server.host->sim_client_policy()).value();
  net::ConnectOptions connect;
  connect.server = server.host->address();
  EXPECT_THROW((void)net::RemoteEnclave::connect(connect, policy, nullptr), std::runtime_error);
}

TEST(Federation, ARoundClosesWithoutAClientThatDied) {
  Server server(rounds(1, 3, 2, std::chrono::seconds(3)));
  const auto policy = server.host->sim_client_policy();
  auto tokenizer = model::Tokenizer::load(kModel);
  // The third client attests and opens its session, then its enclave dies before it submits.
  {
    Client doomed(client_job(policy), server);
    connect_to_server(*doomed.adapter, doomed.link);
    ASSERT_EQ(::kill(doomed.host->enclave().pid(), SIGKILL), 0);
  }
  std::vector<FederationResult> results(2);
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      Client c(client_job(policy), server);
      connect_to_server(*c.adapter, c.link);
      results[i] = run_federation(c.model, *c.adapter, c.link, dataset(i * 24, 24), *tokenizer, options(2), batching());
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r.contributors, std::vector<int>{2});
}

// Two clients on different data, the same federation with and without secure aggregation: the global adapters
// (seen through the model's logits) agree to fixed-point precision.
TEST(Federation, SecureAggregationGivesPlainFedAvgToFixedPointPrecision) {
  auto tokenizer = model::Tokenizer::load(kModel);
  const auto ids = torch::arange(1, 25, torch::kInt64).reshape({2, 12});
  const auto mask = torch::ones({2, 12}, torch::kInt64);
  auto logits = [&](const model::Transformer& model) {
    torch::NoGradGuard no_grad;
    auto ctx = model::ForwardContext::for_tokens(ids, mask);
    return model.forward(ids, ctx);
  };
  auto global_logits = [&](bool secure) {
    Server server(rounds(2, 3, 3), "", "", secure);
    std::vector<std::unique_ptr<Client>> clients;
    const auto plain = client_job(server.host->sim_client_policy());
    const auto job = secure ? secure_job(plain, server.admission_policy) : plain;
    for (int i = 0; i < 3; ++i) clients.push_back(std::make_unique<Client>(job, server));
    std::vector<std::thread> threads;
    std::vector<FederationResult> results(3);
    for (int i = 0; i < 3; ++i) {
      threads.emplace_back([&, i] {
        auto& c = *clients[i];
        connect_to_server(*c.adapter, c.link);
        results[i] = run_federation(c.model, *c.adapter, c.link, dataset(i * 16, 16), *tokenizer, options(4), batching());
      });
    }
    for (auto& t : threads) t.join();
    for (const auto& r : results) EXPECT_EQ(r.contributors, (std::vector<int>{3, 3}));
    EXPECT_EQ(server_status(*clients[0]->adapter, clients[0]->link).secure_aggregation, secure);
    return logits(clients[1]->model);   // the global adapter, in client 1's enclave
  };
  const auto plain = global_logits(false);
  const auto secure = global_logits(true);
  const double gap = (plain - secure).abs().max().item<double>();
  EXPECT_LT(gap, 1e-3);
  const double moved = (plain - logits(model::Transformer::load(kModel))).abs().max().item<double>();
  EXPECT_GT(moved, 10 * gap) << "the federation must have moved the adapter away from its zero-B start";
}

// A server whose rounds hold two — the victim and one enclave of its own — would learn the victim's update from
// the sum minus its own. Each client's minimum (3 by default) goes signed into its announcement: the server
// enclave refuses the join with the reason, and a server that formed the pair anyway would meet the client
// enclaves' own check (federated_secure_aggregation.SecureAggregation.AParticipantChecksTheSetBeforeMasking).
TEST(Federation, ASybilPairIsNeverFormed) {
  Server server(rounds(1, 2, 2), "", "", /*secure_aggregation=*/true, 0, /*min_participants=*/2);
  const auto job = secure_job(client_job(server.host->sim_client_policy()), server.admission_policy);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 2; ++i) clients.push_back(std::make_unique<Client>(job, server));
  for (const auto& o : federate_concurrently(clients, 2))
    EXPECT_NE(o.error.find("this client masks only among 3, and a round here has at most 2"), std::string::npos) << o.error;
}

// A client enclave whose job names no fellow clients takes part in no secure round: it could not tell the
// other participants from identities the server made up.
TEST(Federation, AClientWithoutAPeerPolicyJoinsNoSecureRound) {
  Server server(rounds(1, 3, 3), "", "", /*secure_aggregation=*/true);
  Client c(client_job(server.host->sim_client_policy()), server);
  connect_to_server(*c.adapter, c.link);
  try {
    call_server(*c.adapter, c.link, {{"op", "join"}, {"round", 0}});
    FAIL() << "a client enclave without a peer policy joined a secure round";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("needs this client's job to name the client enclaves it masks among"),
              std::string::npos) << e.what();
  }
}

// A client whose job requires secure aggregation sends a server without it nothing: the client enclave refuses
// to put its adapter in plaintext, whatever the server (or a broken server enclave) reports.
TEST(Federation, AClientThatRequiresSecureAggregationSendsAPlainServerNothing) {
  Server server(rounds(1, 1, 1));
  Client c(secure_job(client_job(server.host->sim_client_policy()), server.admission_policy), server);
  connect_to_server(*c.adapter, c.link);
  auto tokenizer = model::Tokenizer::load(kModel);
  try {
    run_federation(c.model, *c.adapter, c.link, dataset(0, 16), *tokenizer, options(2), batching());
    FAIL() << "a client that requires secure aggregation sent its adapter to a plain server";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("requires secure aggregation"), std::string::npos) << e.what();
  }
}

// An aggregator that brings an enclave of its own (here: on a platform the server admits but the clients' peer
// policy does not — the operator's machine) into the set is refused by the client enclaves whose job names
// the fellow clients they mask among: the victim never shares or masks anything.
TEST(Federation, AParticipantOutsideThePeerPolicyIsRefused) {
  TempDir platforms;
  net::HostOptions host_options;
  host_options.enclave_binary = SG_SLICEGUARD;
  auto platform = [&](const std::string& name) {
    const auto path = platforms.path() + "/" + name + ".key";
    return std::make_pair(path, crypto::to_hex(tee::load_or_create_platform_key(path).value().public_key));
  };
  const auto [honest_key, honest] = platform("honest");
  const auto [operator_key, operators] = platform("operator");
  Server server(rounds(1, 3, 3, std::chrono::seconds(3)), "", net::sim_peer_policy(host_options, {honest, operators}),
                /*secure_aggregation=*/true);
  const auto job = secure_job(client_job(server.host->sim_client_policy()), net::sim_peer_policy(host_options, {honest}));
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 2; ++i) clients.push_back(std::make_unique<Client>(job, server, "", honest_key));
  clients.push_back(std::make_unique<Client>(job, server, "", operator_key));   // the operator's
  const auto outcomes = federate_concurrently(clients, 2);
  for (int i = 0; i < 2; ++i)
    EXPECT_NE(outcomes[i].error.find("is not a client enclave this job's peer_policy admits"), std::string::npos)
        << outcomes[i].error;
}

// Four participants, a threshold of three: one shares its secrets and dies before submitting. The server
// enclave rebuilds its mask key from the survivors' shares and the round closes with their secure FedAvg.
TEST(Federation, ADropoutAfterSharingIsRecoveredWithinTheRound) {
  Server server(rounds(1, 4, 3, std::chrono::seconds(4)), "", "", /*secure_aggregation=*/true);
  const auto job = secure_job(client_job(server.host->sim_client_policy()), server.admission_policy);
  const AroundCall dies_before_masking = [](const crypto::Envelope& request, const rpc::Transport& next) {
    if (request.control.find("\"masked\":true") != std::string::npos) throw std::runtime_error("killed before masking");
    return next(request);
  };
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 4; ++i)
    clients.push_back(std::make_unique<Client>(job, server, "", "", i == 3 ? dies_before_masking : AroundCall{}));
  const auto outcomes = federate_concurrently(clients, 2);
  EXPECT_NE(outcomes[3].error.find("killed before masking"), std::string::npos) << outcomes[3].error;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(outcomes[i].error, "");
    EXPECT_EQ(outcomes[i].result.contributors, (std::vector<int>{3})) << "client " << i;
  }
}

// After its masked update for a round, a client enclave masks nothing more for that round: an aggregator that
// asks a participant to join again cannot get a second sum to difference with the first. The marker is sealed
// before the masked update leaves, so even when the reply is lost (here: the victim's host never gets it) the
// client enclave restarted from its sealed state refuses too.
TEST(Federation, AClientEnclaveMasksOneUpdatePerRound) {
  auto tokenizer = model::Tokenizer::load(kModel);
  Server server(rounds(1, 3, 3, std::chrono::seconds(4)), "", "", /*secure_aggregation=*/true);
  TempDir victim_dir;
  const auto job = secure_job(client_job(server.host->sim_client_policy()), server.admission_policy);
  bool masked_sent = false;
  const AroundCall loses_the_masked_reply = [&](const crypto::Envelope& request, const rpc::Transport& next) {
    if (masked_sent && request.control.find("from_server") != std::string::npos) throw std::runtime_error("reply lost");
    masked_sent = masked_sent || request.control.find("\"masked\":true") != std::string::npos;
    return next(request);
  };
  std::vector<std::unique_ptr<Client>> clients;
  clients.push_back(std::make_unique<Client>(job, server, victim_dir.path(), "", loses_the_masked_reply));
  for (int i = 1; i < 3; ++i) clients.push_back(std::make_unique<Client>(job, server));
  std::vector<std::string> errors(3);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      auto& c = *clients[i];
      connect_to_server(*c.adapter, c.link);
      try {
        run_federation(c.model, *c.adapter, c.link, dataset(i * 16, 16), *tokenizer, options(2), batching(),
                       c.sealing_state_changes());
      } catch (const std::runtime_error& e) {
        errors[i] = e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_NE(errors[0].find("reply lost"), std::string::npos) << errors[0];
  auto refuses_round_0 = [](Client& c, const std::string& who) {
    try {
      call_server(*c.adapter, c.link, {{"op", "join"}, {"round", 0}});
      ADD_FAILURE() << who << " joined round 0 again after masking its update for it";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("already masked its update for round 0"), std::string::npos) << e.what();
    }
  };
  masked_sent = false;
  try {   // one request at a time: the lost reply is still pending on this session
    call_server(*clients[0]->adapter, clients[0]->link, {{"op", "status"}});
    ADD_FAILURE() << "a second request went out while the masked update's reply was pending";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("still awaits the server enclave's reply"), std::string::npos) << e.what();
  }
  connect_to_server(*clients[0]->adapter, clients[0]->link);   // a new session
  refuses_round_0(*clients[0], "the client enclave");
  Client restarted(job, server, victim_dir.path());   // restores the sealed state
  connect_to_server(*restarted.adapter, restarted.link);
  refuses_round_0(restarted, "a client enclave restarted from its sealed state");
}

// Three clients, two drawn per round: every round averages exactly two, and the third skips its steps.
TEST(Federation, EachRoundTrainsTheClientsTheServerEnclaveDraws) {
  Server server(rounds(2, 2, 2), "", "", false, /*clients=*/3);
  auto tokenizer = model::Tokenizer::load(kModel);
  std::vector<FederationResult> results(3);
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] {
      Client c(client_job(server.host->sim_client_policy()), server);
      connect_to_server(*c.adapter, c.link);
      results[i] = run_federation(c.model, *c.adapter, c.link, dataset(i * 16, 16), *tokenizer, options(4), batching());
    });
  }
  for (auto& t : threads) t.join();
  int steps = 0;
  for (const auto& r : results) {
    EXPECT_EQ(r.contributors, (std::vector<int>{2, 2}));
    steps += r.local.steps;
  }
  EXPECT_EQ(steps, 2 /*rounds*/ * 2 /*drawn*/ * 2 /*steps per round*/);
}

TEST(Federation, ARestartedServerEnclaveContinuesFromItsSealedState) {
  TempDir state;
  const std::string state_dir = state.path() + "/server";
  auto tokenizer = model::Tokenizer::load(kModel);
  const auto data = dataset(0, 32);
  {
    Server first(rounds(2, 1, 1), state_dir);
    Client c(client_job(first.host->sim_client_policy()), first);
    connect_to_server(*c.adapter, c.link);
    FederationOptions only_one;
    only_one.rounds_to_run = 1;
    const auto r = run_federation(c.model, *c.adapter, c.link, data, *tokenizer, options(4), batching(), only_one);
    EXPECT_EQ(r.contributors, std::vector<int>{1});
  }   // the server (host and enclave) goes away after round 0
  Server restarted(rounds(2, 1, 1), state_dir);
  Client c(client_job(restarted.host->sim_client_policy()), restarted);
  connect_to_server(*c.adapter, c.link);
  const auto status = server_status(*c.adapter, c.link);
  EXPECT_EQ(status.open_round, 1);
  // A new client joins at the open round with the sealed global adapter, and finishes the federation.
  const auto r = run_federation(c.model, *c.adapter, c.link, data, *tokenizer, options(4), batching());
  EXPECT_EQ(r.first_round, 1);
  EXPECT_EQ(r.local.steps, 2);
  EXPECT_TRUE(server_status(*c.adapter, c.link).finished);
}

// FedAvg weighs a client by the examples its enclave trained on: the enclave writes the sample count into the
// submission itself, so a host that claims a million examples is not believed.
TEST(Federation, TheSampleCountIsWhatTheClientEnclaveTrainedOn) {
  Server server(rounds(1, 2, 2));
  Client c(client_job(server.host->sim_client_policy()), server);
  connect_to_server(*c.adapter, c.link);
  auto tokenizer = model::Tokenizer::load(kModel);
  const auto local = train_local_steps(c.model, *c.adapter,
                                       train::shuffled_epochs(dataset(0, 32), *tokenizer, batching()), options(2));
  ASSERT_GT(local.examples, 0);
  const auto reply = call_server(*c.adapter, c.link, {{"op", "submit"}, {"round", 0}, {"samples", 1000000}});
  EXPECT_EQ(reply.at("samples").get<int64_t>(), local.examples);
}

// The aggregator counts a client by its enclave's attested identity, not by its session: a client that submits,
// loses the server to a restart mid-round, reconnects and submits again is counted once, so a round of two
// clients stays open until a second client comes (counting sessions, it closed on the same client twice).
TEST(Federation, AServerRestartMidRoundCountsEachClientOnce) {
  TempDir state;
  const std::string state_dir = state.path() + "/server";
  auto tokenizer = model::Tokenizer::load(kModel);
  const auto data = dataset(0, 32);
  FederationOptions short_wait;   // nobody else comes: give up waiting for the round to close
  short_wait.poll_every = std::chrono::milliseconds(100);
  short_wait.round_wait = std::chrono::milliseconds(1500);
  auto server = std::make_unique<Server>(rounds(1, 2, 2), state_dir);
  Client a(client_job(server->host->sim_client_policy()), *server);
  connect_to_server(*a.adapter, a.link);
  EXPECT_THROW(run_federation(a.model, *a.adapter, a.link, data, *tokenizer, options(2), batching(), short_wait),
               std::runtime_error);
  server.reset();   // mid-round: a's submission is in the sealed state
  Server restarted(rounds(1, 2, 2), state_dir);
  a.reconnect(restarted);
  connect_to_server(*a.adapter, a.link);   // a new session, the same enclave identity
  EXPECT_EQ(server_status(*a.adapter, a.link).open_round, 0);
  EXPECT_THROW(run_federation(a.model, *a.adapter, a.link, data, *tokenizer, options(2), batching(), short_wait),
               std::runtime_error);
  EXPECT_EQ(server_status(*a.adapter, a.link).open_round, 0) << "one client closed a round of two";
}

// A client whose process (host and enclave) dies after round 0 comes back with its sealed state: its AdamW
// moments and step continue, so its round-1 losses are those of a client that never stopped.
TEST(Federation, ARestartedClientContinuesItsOptimiserFromItsSealedState) {
  auto tokenizer = model::Tokenizer::load(kModel);
  const auto data = dataset(0, 48);
  std::vector<double> uninterrupted;
  {
    Server server(rounds(2, 1, 1));
    Client c(client_job(server.host->sim_client_policy()), server);
    connect_to_server(*c.adapter, c.link);
    uninterrupted = run_federation(c.model, *c.adapter, c.link, data, *tokenizer, options(6), batching()).local.losses;
  }
  ASSERT_EQ(uninterrupted.size(), 6u);
  TempDir server_state, client_state;
  const std::string server_dir = server_state.path() + "/server";
  {
    Server server(rounds(2, 1, 1), server_dir);
    const auto job = client_job(server.host->sim_client_policy());
    {
      Client first(job, server, client_state.path());
      connect_to_server(*first.adapter, first.link);
      auto o = first.sealing_state_changes();
      o.rounds_to_run = 1;
      run_federation(first.model, *first.adapter, first.link, data, *tokenizer, options(6), batching(), o);
    }   // the client's host and enclave go away after round 0
    Client restarted(job, server, client_state.path());
    connect_to_server(*restarted.adapter, restarted.link);
    const auto r = run_federation(restarted.model, *restarted.adapter, restarted.link, data, *tokenizer, options(6),
                                  batching(), restarted.sealing_state_changes());
    EXPECT_EQ(r.first_round, 1);
    ASSERT_EQ(r.local.losses.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(r.local.losses[i], uninterrupted[3 + i], 1e-5) << "step " << 4 + i;
  }
  // The same server identity without its sealed state starts a new federation at round 0: to the client's
  // enclave, which saw a later generation of that server's state, it is a rewound server, and it refuses.
  std::filesystem::remove(server_dir + "/sealed_state.bin");
  Server fresh(rounds(2, 1, 1), server_dir);
  Client stale(client_job(fresh.host->sim_client_policy()), fresh, client_state.path());
  connect_to_server(*stale.adapter, stale.link);
  try {
    run_federation(stale.model, *stale.adapter, stale.link, data, *tokenizer, options(6), batching());
    ADD_FAILURE() << "a sealed state from another federation was accepted";
  } catch (const std::runtime_error& e) {   // the server's state went back (to nothing): a rewind
    EXPECT_NE(std::string(e.what()).find("older than generation"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace sg::federated
