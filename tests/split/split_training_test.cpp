// Method 2 end to end in one test process: a real `sliceguard enclave` process serving a split job, the relay
// (the server's untrusted host) on loopback gRPC with a tap recording every byte it relays, and a client that
// holds only the client slice of the checkpoint. Checks equivalence with local training, that the host's byte
// stream carries no plaintext, and that attestation gates everything.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>

#include "crypto/bytes.h"
#include "crypto/frame.h"
#include "data/dataset.h"
#include "model/generation.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "net/enclave_host.h"
#include "hosts/split_client_host.h"
#include "net/remote_enclave.h"
#include "peft/methods.h"
#include "slicing/plan.h"
#include "split/client.h"
#include "split/job.h"
#include "split/model_digest.h"
#include "rpc/tensor_wire.h"
#include "tee/attested_session.h"
#include "tee/client_identity.h"
#include "tee/host_enclave_process.h"
#include "tee/policy.h"
#include "tensor/safetensors.h"
#include "tensor/torch_bridge.h"
#include "support/temp_dir.h"
#include "train/finetune.h"

namespace sg::split {
namespace {

namespace fs = std::filesystem;
using test_support::TempDir;
using rpc::from_wire;
using rpc::to_wire;

const std::string kModel = std::string(SG_SOURCE_DIR) + "/models/sliceguard-med-tiny";
const std::string kData = std::string(SG_SOURCE_DIR) + "/data/medical/triage/train.jsonl";
constexpr int kCut = 2;

SplitJob job_for(const std::string& method) {
  SplitJob job;
  auto& t = job.trainer;
  t.model_dir = kModel;
  t.cut_layer = kCut;
  t.method.method = method;
  t.method.spf.density = 0.1;
  t.optimizer.lr = 1e-2;
  t.optimizer.warmup_steps = 2;
  t.seed = 7;
  t.method.spf.seed = t.seed;
  return job;
}

// A checkpoint with only the client's tensors: the client must work without ever having the server's.
std::string client_only_checkpoint(const TempDir& dir, const slicing::SlicePlan& plan) {
  const fs::path out = fs::path(dir.path()) / "client-model";
  fs::create_directories(out);
  for (const char* f : {"config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                        "generation_config.json"})
    if (fs::exists(fs::path(kModel) / f)) fs::copy_file(fs::path(kModel) / f, out / f);
  auto front = model::Transformer::load(kModel, plan.client_slice(model::load_config(kModel)));
  tensor::save_tensors((out / "model.safetensors").string(), front.checkpoint_tensors());
  return out.string();
}

// A running split server (net::EnclaveHost: enclave process + relay) whose tap records every frame the host
// relays, both directions. Its job enrolls three client identities and pins the slice's digest.
struct SplitServer {
  TempDir dir;
  std::mutex mutex;
  std::vector<crypto::Bytes> relayed;
  std::vector<crypto::SigningKeyPair> clients;
  std::unique_ptr<net::EnclaveHost> host;
  std::string policy_allowing_sim;

  int max_message_bytes;   // one gRPC message, both ways

  explicit SplitServer(SplitJob job, int max_message = net::kMaxGrpcMessageBytes, const std::string& transport = "ring")
      : max_message_bytes(max_message) {
    for (int i = 0; i < 3; ++i) clients.push_back(crypto::SigningKeyPair::generate());
    for (const auto& c : clients) job.clients.push_back(c.public_key);
    if (job.model_digest.empty()) job.model_digest = slice_digest(job.trainer);
    net::HostOptions options;
    options.enclave_binary = SG_SLICEGUARD;
    options.enclave_transport = transport;
    // The tcp case also runs the enclave through a launcher, as gramine-sgx would run it.
    if (transport == "tcp") options.enclave_launcher = {"/usr/bin/env", SG_SLICEGUARD};
    options.state_dir = dir.path() + "/server";
    options.job_json = job.to_json();
    options.relay.listen = "127.0.0.1:0";
    options.relay.max_message_bytes = max_message_bytes;
    options.relay.tap = [this](net::RelayDirection, crypto::ByteView frame) {
      std::lock_guard lock(mutex);
      relayed.push_back(frame.to_bytes());
    };
    host = net::EnclaveHost::start(options);
    policy_allowing_sim = host->sim_client_policy();
  }

  std::string address() const { return host->address(); }
  tee::EnclaveProcess& enclave() { return host->enclave(); }

  // A session as enrolled client `client`.
  std::unique_ptr<net::RemoteEnclave> connect(const std::string& policy_path, std::size_t client = 0) {
    return net::RemoteEnclave::connect(connect_options(), load_policy(policy_path), &clients.at(client));
  }
  // A data owner's host as `sliceguard client` builds it: the session as enrolled client `client` and the
  // plan's client slice of `model_dir`.
  std::unique_ptr<hosts::SplitClientHost> client_host(const std::string& model_dir, const slicing::SlicePlan& plan,
                                                      std::size_t client = 0) {
    return std::make_unique<hosts::SplitClientHost>(model_dir, plan, connect_options(),
                                                    load_policy(policy_allowing_sim), clients.at(client));
  }
  net::ConnectOptions connect_options() const {
    net::ConnectOptions connect;
    connect.server = address();
    connect.max_message_bytes = max_message_bytes;
    return connect;
  }
  static tee::Policy load_policy(const std::string& path) {
    auto policy = tee::Policy::load(path);
    if (!policy) throw std::runtime_error(policy.error().message);
    return std::move(*policy);
  }
  tee::Policy policy() const { return tee::Policy::load(policy_allowing_sim).value(); }

  bool relayed_contains(const crypto::Bytes& needle) {
    std::lock_guard lock(mutex);
    for (const auto& frame : relayed)
      if (std::search(frame.begin(), frame.end(), needle.begin(), needle.end()) != frame.end()) return true;
    return false;
  }
  std::size_t frames_relayed() {
    std::lock_guard lock(mutex);
    return relayed.size();
  }
};

data::Dataset small_dataset() {
  auto dataset = data::load_jsonl(kData);
  dataset.examples.resize(48);
  return dataset;
}

train::TrainOptions run_options() {
  train::TrainOptions options;
  options.max_steps = 8;
  options.log_every = 1000;
  return options;
}

data::BatchOptions batching() {
  data::BatchOptions b;
  b.batch_size = 8;
  b.seed = 3;
  return b;
}

// The local baseline: the whole model in one process, adapters on the same layers, same seeds and data.
std::vector<double> local_losses(const SplitJob& job, const data::Dataset& dataset, const model::Tokenizer& tokenizer) {
  auto model = model::Transformer::load(kModel);
  auto method = job.trainer.method;
  method.first_layer = kCut;
  auto options = run_options();
  options.seed = job.trainer.seed;
  options.optimizer = job.trainer.optimizer;
  return train::finetune(model, method, train::shuffled_epochs(dataset, tokenizer, batching()), options).result.losses;
}

struct Case {
  std::string method;
  std::string plan;   // split | u-shaped
  // One gRPC message's limit both ways; the small one makes every envelope and reply span several messages.
  int max_message_bytes = net::kMaxGrpcMessageBytes;
  std::string transport = "ring";   // between the server's host and its enclave
};

class SplitTraining : public ::testing::TestWithParam<Case> {};

TEST_P(SplitTraining, ReproducesLocalTrainingStepByStep) {
  const auto& param = GetParam();
  auto job = job_for(param.method);
  job.trainer.head = param.plan == "split";
  SplitServer server(job, param.max_message_bytes, param.transport);
  const auto plan = slicing::SlicePlan::parse(R"({"kind":")" + param.plan + R"(","cut_layer":2})", "plan.json");
  const auto client_model = client_only_checkpoint(server.dir, plan);
  auto tokenizer = model::Tokenizer::load(client_model);
  const auto dataset = small_dataset();

  auto remote = server.connect(server.policy_allowing_sim);
  std::set<std::string> sent;   // names of every tensor the client sent
  std::size_t largest_exchange = 0;   // tensor bytes of the largest request or reply
  SplitClient client(client_model, plan, [&](const crypto::Envelope& e) {
    for (const auto& t : e.tensors) sent.insert(t.meta.name);
    auto reply = remote->call(e);
    for (const crypto::Envelope* envelope : {&e, static_cast<const crypto::Envelope*>(&reply)}) {
      std::size_t bytes = 0;
      for (const auto& t : envelope->tensors) bytes += t.data.size();
      largest_exchange = std::max(largest_exchange, bytes);
    }
    return reply;
  });
  const auto split = client.train(dataset, *tokenizer, run_options(), batching()).losses;
  const auto local = local_losses(job, dataset, *tokenizer);

  ASSERT_EQ(split.size(), 8u);
  ASSERT_EQ(local.size(), split.size());
  for (std::size_t i = 0; i < split.size(); ++i) EXPECT_NEAR(split[i], local[i], 1e-5) << "step " << i + 1;
  // It learns: the last steps' mean loss is below the first steps'.
  const double first = (split[0] + split[1] + split[2]) / 3, last = (split[5] + split[6] + split[7]) / 3;
  EXPECT_LT(last, first) << "losses " << ::testing::PrintToString(split);
  // Labels go to the enclave only in the split plan; u-shaped keeps them (and the loss) on the client.
  EXPECT_EQ(sent.count("labels"), param.plan == "split" ? 1u : 0u);
  // With small messages, some envelope was larger than one message may be, so it crossed in several.
  if (param.max_message_bytes != net::kMaxGrpcMessageBytes) {
    EXPECT_GT(largest_exchange, std::size_t(param.max_message_bytes));
  }
}

INSTANTIATE_TEST_SUITE_P(Methods, SplitTraining,
                         ::testing::Values(Case{"lora", "split"}, Case{"spf+lora", "split"},
                                           Case{"lora", "u-shaped"}, Case{"spf+lora", "u-shaped"},
                                           Case{"lora", "split", 192 << 10},
                                           Case{"spf+lora", "split", net::kMaxGrpcMessageBytes, "tcp"}),
                         [](const auto& info) {
                           std::string name = info.param.method == "lora" ? "Lora" : "SpfLora";
                           name += info.param.plan == "split" ? "Split" : "UShaped";
                           if (info.param.max_message_bytes != net::kMaxGrpcMessageBytes) name += "InSmallMessages";
                           return info.param.transport == "ring" ? name : name + "OverTheTcpBoundary";
                         });

// The bytes of `t` from `offset` elements on, `count` elements long.
crypto::Bytes window(const at::Tensor& t, int64_t offset, int64_t count) {
  const auto wire = to_wire("x", t.flatten().narrow(0, offset, count).contiguous());
  return wire.data;
}

TEST(SplitSecurity, HostRelaysNoPlaintextActivationsLabelsOrAdapterWeights) {
  const auto job = job_for("spf+lora");
  SplitServer server(job);
  const auto plan = slicing::SlicePlan::parse(R"({"kind":"split","cut_layer":2})", "plan.json");
  auto tokenizer = model::Tokenizer::load(kModel);
  const auto dataset = small_dataset();
  auto host = server.client_host(kModel, plan);
  auto& client = host->client();
  auto options = run_options();
  options.max_steps = 2;
  client.train(dataset, *tokenizer, options, batching());

  // What the client sent in its first micro-batch, recomputed here.
  const auto first = train::shuffled_epochs(dataset, *tokenizer, batching())(0).front();
  auto front = model::Transformer::load(kModel, plan.client_slice(model::load_config(kModel)));
  torch::NoGradGuard no_grad;
  auto ctx = model::ForwardContext::for_tokens(first.input_ids, first.attention_mask);
  const auto hidden = front.forward_layers(front.embed(first.input_ids, ctx), 0, kCut, ctx);
  const auto activations = window(hidden, 0, 16);
  const int64_t answer = (first.labels[0] != -100).nonzero()[0][0].item<int64_t>();
  const auto labels = window(first.labels[0], answer - 1, 3);   // the answer tokens between -100s
  // The enclave's LoRA A for the first adapted module, as its seeded init makes it.
  torch::manual_seed(job.trainer.seed);
  auto full = model::Transformer::load(kModel);
  auto method = job.trainer.method;
  method.first_layer = kCut;
  auto adapters = peft::attach_method(full, method);
  const auto lora_a = window(adapters.lora->modules().begin()->second->a(), 0, 8);

  // Positive control: the search finds each needle in the plaintext the client built.
  const auto sent = to_wire("hidden", hidden).data;
  ASSERT_NE(std::search(sent.begin(), sent.end(), activations.begin(), activations.end()), sent.end());
  const auto sent_labels = to_wire("labels", first.labels).data;
  ASSERT_NE(std::search(sent_labels.begin(), sent_labels.end(), labels.begin(), labels.end()), sent_labels.end());

  ASSERT_GT(server.frames_relayed(), 4u);
  EXPECT_FALSE(server.relayed_contains(activations));
  EXPECT_FALSE(server.relayed_contains(labels));
  EXPECT_FALSE(server.relayed_contains(lora_a));
  const std::string loss_key = "\"loss\"";
  EXPECT_FALSE(server.relayed_contains(crypto::Bytes(loss_key.begin(), loss_key.end())));
}

TEST(SplitSecurity, ClientWhosePolicyForbidsSimRefusesASimServerBeforeSendingData) {
  SplitServer server(job_for("lora"));
  const auto strict = server.dir.file(
      "strict.json", R"({"allowed_backends":["gramine"],"allowed_measurements":[")" + std::string(64, 'a') + R"("]})");
  try {
    server.connect(strict);
    FAIL() << "connected to a sim enclave under a policy that forbids sim";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("evidence refused by policy"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("sim"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.frames_relayed(), 0u);
  auto health = server.enclave().health();
  ASSERT_TRUE(health);
  EXPECT_EQ(health->sessions, 0u);
}

TEST(SplitSecurity, PlanThatDisagreesWithTheServerIsRefused) {
  SplitServer server(job_for("lora"));
  const auto plan = slicing::SlicePlan::parse(R"({"kind":"split","cut_layer":1})", "other-plan.json");
  auto host = server.client_host(kModel, plan);
  auto& client = host->client();
  try {
    client.hello();
    FAIL() << "a client cut at layer 1 talked to a server cut at layer 2";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("other-plan.json: cut_layer is 1"), std::string::npos) << e.what();
  }
}

TEST(SplitSecurity, MalformedRequestIsAnsweredWithASealedError) {
  SplitServer server(job_for("lora"));
  auto remote = server.connect(server.policy_allowing_sim);
  const auto status = net::fetch_status({.server = server.address()});
  EXPECT_EQ(status.backend, "sim");
  EXPECT_EQ(status.sessions, 1u);
  EXPECT_EQ(status.enclave_pid, int(server.enclave().pid()));
  const auto reply = remote->call({R"({"op":"train","epoch":0,"index":0})", {}});
  EXPECT_NE(reply.control.find("no tensor 'hidden'"), std::string::npos) << reply.control;
  // The session still works afterwards.
  EXPECT_NE(remote->call({R"({"op":"hello"})", {}}).control.find("cut_layer"), std::string::npos);
}

// The relay refuses bytes that cannot be a sealed frame before it allocates anything for them or asks the
// enclave; the server goes on serving.
TEST(SplitSecurity, RelayRefusesBytesThatCannotBeFrames) {
  SplitServer server(job_for("lora"));
  for (const std::size_t size : {std::size_t(3), crypto::frame_size(crypto::kDefaultMaxFramePayload) + 1}) {
    auto connection = net::ServerConnection::open({.server = server.address()});
    try {
      connection->exchange({crypto::Bytes(size, 1)});
      FAIL() << "the relay took " << size << " bytes as a frame";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("bytes is not a sealed frame"), std::string::npos) << e.what();
    }
  }
  auto remote = server.connect(server.policy_allowing_sim);
  EXPECT_NE(remote->call({R"({"op":"hello"})", {}}).control.find("cut_layer"), std::string::npos);
}

// The enclave answers only a complete envelope, so a client that completes one in a message marked `more` (here:
// two envelopes' frames sent as one, over several small messages) is refused rather than have the host hold
// replies until a last message that may never come.
TEST(SplitSecurity, RelayRefusesAnEnvelopeCompletedInsideAnother) {
  SplitServer server(job_for("lora"), 192 << 10);
  net::ConnectOptions options;
  options.server = server.address();
  options.max_message_bytes = server.max_message_bytes;
  auto connection = net::ServerConnection::open(options);
  auto session = tee::attest_and_open(connection->door(), server.policy(), &server.clients[0]);
  ASSERT_TRUE(session) << session.error().message;
  // A small envelope, then one of 376 KiB whose chunk frames are too large to share its message.
  auto first = crypto::seal_envelope(*session->channel, {R"({"op":"hello"})", {}});
  auto second = crypto::seal_envelope(*session->channel,
                                      {R"({"op":"hello"})", {to_wire("x", torch::ones({376 << 10 >> 2}))}});
  ASSERT_TRUE(first && second);
  std::vector<crypto::Bytes> both = *first;
  both.insert(both.end(), second->begin(), second->end());
  try {
    connection->exchange(both);
    FAIL() << "the relay took an envelope that ended in a message marked 'more'";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("an envelope ended in a message marked 'more'"), std::string::npos) << e.what();
  }
}

// SplitFed: each enrolled client trains its own copy; every `average_every` steps of a copy, all copies get
// the average. Two clients on different data diverge after one step each and agree again after the average.
TEST(SplitParallel, ClientCopiesDivergeThenAverage) {
  auto job = job_for("lora");
  job.parallel = true;
  job.average_every = 2;
  job.trainer.optimizer.warmup_steps = 0;   // the first step must move the adapters
  SplitServer server(job);
  const auto plan = slicing::SlicePlan::parse(R"({"kind":"split","cut_layer":2})", "plan.json");
  auto tokenizer = model::Tokenizer::load(kModel);
  auto data_a = small_dataset();
  auto data_b = data::load_jsonl(std::string(SG_SOURCE_DIR) + "/data/medical/severity/train.jsonl");
  data_b.examples.resize(48);
  auto a_host = server.client_host(kModel, plan, 0);   // two clients: two copies
  auto b_host = server.client_host(kModel, plan, 1);
  auto& a = a_host->client();
  auto& b = b_host->client();
  auto one_step = run_options();
  one_step.max_steps = 1;
  const auto probe = train::shuffled_epochs(data_a, *tokenizer, batching())(0).front();
  auto logits = [&](SplitClient& c) { return c.logits(probe.input_ids, probe.attention_mask); };

  const auto before = logits(a);
  EXPECT_TRUE(torch::equal(before, logits(b)));   // the same start
  a.train(data_a, *tokenizer, one_step, batching());
  b.train(data_b, *tokenizer, one_step, batching());
  EXPECT_EQ(a.hello().steps_done, 1);
  EXPECT_GT((logits(a) - logits(b)).abs().max().item<double>(), 1e-4);   // diverged
  a.train(data_a, *tokenizer, one_step, batching());                     // a's step 2: average
  EXPECT_EQ(a.hello().steps_done, 2);
  EXPECT_EQ(b.hello().steps_done, 1);
  EXPECT_LT((logits(a) - logits(b)).abs().max().item<double>(), 1e-5);   // agree again
  EXPECT_GT((logits(a) - before).abs().max().item<double>(), 1e-4);      // and trained
}

TEST(SplitInference, GenerationWithCachesOnBothSidesMatchesLocalGeneration) {
  SplitServer server(job_for("lora"));   // fresh LoRA: B = 0, so the split model is the base model
  const auto plan = slicing::SlicePlan::parse(R"({"kind":"split","cut_layer":2})", "plan.json");
  auto host = server.client_host(kModel, plan);
  auto& client = host->client();
  auto tokenizer = model::Tokenizer::load(kModel);
  auto full = model::Transformer::load(kModel);
  model::SamplingOptions greedy;
  greedy.max_new_tokens = 24;
  for (const char* text : {"Patient reports chest pain radiating to the left arm.", "Fever and a stiff neck"}) {
    const auto prompt = tokenizer->encode(text);
    const auto local = model::generate(full, prompt, greedy);
    // Twice over one session: a new sequence (position 0) must reset both caches.
    for (int round = 0; round < 2; ++round) {
      const auto split = model::generate(
          [&](const at::Tensor& input, int64_t past) { return client.next_token_logits(input, past); }, prompt, greedy);
      EXPECT_EQ(split, local) << text << " (round " << round << ")";
    }
  }
  // A position the enclave's cache does not hold is refused, in a sealed reply.
  auto ids = torch::tensor({{5, 6}}, torch::kInt64);
  EXPECT_THROW(client.next_token_logits(ids, 7), std::runtime_error);
}

TEST(SplitInference, UShapedLogitsMatchTheFullModel) {
  auto job = job_for("lora");
  job.trainer.head = false;
  SplitServer server(job);
  const auto plan = slicing::SlicePlan::parse(R"({"kind":"u-shaped","cut_layer":2})", "plan.json");
  auto host = server.client_host(kModel, plan);
  auto& client = host->client();
  auto tokenizer = model::Tokenizer::load(kModel);
  const auto batch = train::shuffled_epochs(small_dataset(), *tokenizer, batching())(0).front();
  auto full = model::Transformer::load(kModel);
  torch::NoGradGuard no_grad;
  auto ctx = model::ForwardContext::for_tokens(batch.input_ids, batch.attention_mask);
  const auto expected = full.forward(batch.input_ids, ctx);
  EXPECT_LT((client.logits(batch.input_ids, batch.attention_mask) - expected).abs().max().item<double>(), 1e-4);
  // A split client cannot use a u-shaped server (and the other way round).
  const auto split_plan = slicing::SlicePlan::parse(R"({"kind":"split","cut_layer":2})", "split-plan.json");
  SplitClient wrong(kModel, split_plan, [&](const crypto::Envelope& e) { return host->enclave().call(e); });
  EXPECT_THROW(wrong.hello(), std::runtime_error);
}

TEST(SplitSecurity, DeadServerIsAClearError) {
  auto server = std::make_unique<SplitServer>(job_for("lora"));
  const auto policy_text = [&] {
    std::ifstream in(server->policy_allowing_sim);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  auto remote = server->connect(server->policy_allowing_sim);
  ASSERT_TRUE(server->enclave().stop());   // the enclave is gone; the host still answers
  try {
    remote->call({R"({"op":"hello"})", {}});
    FAIL() << "a call to a stopped enclave succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("server at 127.0.0.1:"), std::string::npos) << e.what();
  }
  const auto address = server->address();
  server.reset();   // and now the host too
  auto policy = tee::Policy::parse(policy_text, "policy.json");
  ASSERT_TRUE(policy);
  try {
    net::ConnectOptions options{.server = address, .connect_timeout = std::chrono::milliseconds(1500)};
    const auto identity = crypto::SigningKeyPair::generate();
    net::RemoteEnclave::connect(options, *policy, &identity);
    FAIL() << "connected to a server that is not running";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("unreachable"), std::string::npos) << e.what();
  }
}

// The operator owns the base weights; a session of its own would let it send chosen activations and read the
// adapters trained on the clients' data. It can attest the enclave like anyone, but no session opens without an
// enrolled client's proof over this very handshake: none, an unenrolled key's, or a client's proof replayed for
// another session key are all refused, and nothing is opened.
TEST(SplitSecurity, OperatorCannotOpenASession) {
  SplitServer server(job_for("lora"));
  auto connection = net::ServerConnection::open({.server = server.address()});
  const auto operator_key = crypto::SigningKeyPair::generate();
  for (const crypto::SigningKeyPair* identity : {static_cast<const crypto::SigningKeyPair*>(nullptr), &operator_key}) {
    try {
      (void)tee::attest_and_open(connection->door(), server.policy(), identity);
      ADD_FAILURE() << "the enclave opened a session " << (identity ? "for an unenrolled key" : "without a proof");
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(identity ? "is not enrolled in this job" : "identity proof (96 bytes"),
                std::string::npos) << e.what();
    }
  }
  // A proof an enrolled client made for its own session key, replayed with the operator's.
  const auto evidence = connection->door().get_evidence(crypto::Bytes(tee::kEvidenceNonceBytes, 1)).value();
  const auto client_kx = crypto::KxKeyPair::generate(), operator_kx = crypto::KxKeyPair::generate();
  const auto proof = tee::prove_identity(server.clients[0], evidence.enclave_key, client_kx.public_key);
  EXPECT_THROW(connection->open_session(operator_kx.public_key, proof), std::runtime_error);
  EXPECT_EQ(server.enclave().health()->sessions, 0u);
  EXPECT_NE(server.connect(server.policy_allowing_sim)->call({R"({"op":"hello"})", {}}).control.find("cut_layer"),
            std::string::npos);
}

// Sessions cost the enclave memory, so only proofs open them: 1,025 unauthenticated OpenSession calls (more than
// the enclave ever holds) leave no session behind and an enrolled client still gets in. A client holds at most
// four sessions (its oldest closes when it opens a fifth), and a session closes when its client is done.
TEST(SplitSecurity, SessionsAreOnlyForEnrolledClientsAndBoundedPerClient) {
  SplitServer server(job_for("lora"));
  auto connection = net::ServerConnection::open({.server = server.address()});
  for (int i = 0; i < 1025; ++i)
    EXPECT_THROW(connection->open_session(crypto::KxKeyPair::generate().public_key, {}), std::runtime_error) << i;
  EXPECT_EQ(server.enclave().health()->sessions, 0u);

  std::vector<std::unique_ptr<net::RemoteEnclave>> remotes;
  for (int i = 0; i < 5; ++i) remotes.push_back(server.connect(server.policy_allowing_sim, 0));
  EXPECT_EQ(server.enclave().health()->sessions, 4u);
  EXPECT_THROW(remotes.front()->call({R"({"op":"hello"})", {}}), std::runtime_error);   // closed for the fifth
  for (std::size_t i = 1; i < remotes.size(); ++i)
    EXPECT_NE(remotes[i]->call({R"({"op":"hello"})", {}}).control.find("cut_layer"), std::string::npos) << i;
  auto other = server.connect(server.policy_allowing_sim, 1);   // another client is not affected
  EXPECT_EQ(server.enclave().health()->sessions, 5u);
  remotes.clear();
  other.reset();
  EXPECT_EQ(server.enclave().health()->sessions, 0u);
}

// A closed session stays closed: the host that recorded a client's OpenSession (its key and proof) cannot
// replay it to reopen the session, which would accept the client's recorded frames again from counter 1.
TEST(SplitSecurity, AClosedSessionCannotBeReopenedToReplayItsFrames) {
  SplitServer server(job_for("lora"));
  auto connection = net::ServerConnection::open({.server = server.address()});
  crypto::KxPublicKey recorded_key{};
  crypto::Bytes recorded_proof;
  auto door = connection->door();
  auto open = door.open_session;
  door.open_session = [&](const crypto::KxPublicKey& key, tee::ByteView proof) {
    recorded_key = key;
    recorded_proof = proof.to_bytes();
    return open(key, proof);
  };
  auto session = tee::attest_and_open(door, server.policy(), &server.clients[0]);
  ASSERT_TRUE(session) << session.error().message;
  crypto::Bytes close;
  ASSERT_TRUE(session->channel->seal_frame(crypto::PayloadKind::close, {}, close));
  ASSERT_EQ(connection->exchange({close}).size(), 1u);   // acknowledged
  EXPECT_EQ(server.enclave().health()->sessions, 0u);
  try {
    connection->open_session(recorded_key, recorded_proof);
    FAIL() << "a closed session was reopened from its recorded OpenSession";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("was closed"), std::string::npos) << e.what();
  }
}

// The first chunk of a tensor announces its size: one beyond what the job's max_batch_tokens allows is refused
// there, before the enclave reserves anything for the 1 GiB it announces, and the session goes on.
TEST(SplitSecurity, OversizeTensorIsRefusedByItsFirstChunk) {
  auto job = job_for("lora");
  job.max_batch_tokens = 64;   // (64 tokens x 256) float32 = 64 KiB per tensor
  SplitServer server(job);
  auto connection = net::ServerConnection::open({.server = server.address()});
  auto session = tee::attest_and_open(connection->door(), server.policy(), &server.clients[0]);
  ASSERT_TRUE(session) << session.error().message;
  const crypto::TensorMeta meta{"hidden", "F32", {1, 1 << 20, 256}};
  const uint64_t announced = uint64_t(1) << 30;
  auto chunks = crypto::plan_tensor_chunks(meta, announced, crypto::kDefaultTensorChunkBytes, session->channel->max_payload());
  ASSERT_TRUE(chunks) << chunks.error().message;
  const crypto::Bytes first_data(chunks->front().data_bytes, 1);   // only the first chunk is ever built
  crypto::Bytes payload, frame;
  crypto::append_tensor_chunk(meta, crypto::ByteView(first_data.data(), announced), chunks->front(), payload);
  ASSERT_TRUE(session->channel->seal_frame(crypto::PayloadKind::tensor, payload, frame));
  try {
    connection->exchange({frame});
    FAIL() << "the enclave took the first chunk of a 1 GiB tensor";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("exceeds the receiver's limit of 65536"), std::string::npos) << e.what();
  }
  auto reply = crypto::seal_envelope(*session->channel, {R"({"op":"hello"})", {}});
  ASSERT_TRUE(reply);
  const auto answer = connection->exchange(*reply);
  std::vector<crypto::ByteView> frames(answer.begin(), answer.end());
  auto opened = crypto::open_envelope(*session->channel, frames);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_NE(opened->control.find("cut_layer"), std::string::npos);
}

// The measured job pins the digest of the slice's weights: the operator cannot hand the enclave other weights
// (one flipped byte of a server-side layer) under the same measurement; the enclave refuses to start.
TEST(SplitSecurity, AFlippedByteInTheSliceWeightsIsRefused) {
  TempDir dir;
  const fs::path model = fs::path(dir.path()) / "model";
  fs::copy(kModel, model, fs::copy_options::recursive);
  auto job = job_for("lora");
  job.model_digest = slice_digest(job.trainer);   // of the genuine weights
  job.trainer.model_dir = model.string();
  EXPECT_EQ(slice_digest(job.trainer), job.model_digest);   // positive control: a copy is the same model

  const auto weights = (model / "model.safetensors").string();
  std::string bytes;
  {
    auto file = tensor::SafetensorsFile::open(weights);
    const auto& view = file->at("model.layers." + std::to_string(kCut) + ".self_attn.q_proj.weight");
    const std::string needle(reinterpret_cast<const char*>(view.data), 64);
    std::ifstream in(weights, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
    const auto at = bytes.find(needle);
    ASSERT_NE(at, std::string::npos);
    bytes[at + 5] ^= 0x01;
  }
  std::ofstream(weights, std::ios::binary | std::ios::trunc) << bytes;
  try {
    SplitServer server(job);
    FAIL() << "the enclave started on weights that do not match the job's model_digest";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot start the enclave"), std::string::npos) << e.what();
  }
}

// A reply's length must not depend on what the step computed: a non-finite loss (null in JSON) and a normal
// one give sealed replies of the same size.
TEST(SplitSecurity, AStepWithANanLossHasTheReplyLengthOfANormalOne) {
  SplitServer server(job_for("lora"));
  auto remote = server.connect(server.policy_allowing_sim);
  ASSERT_EQ(remote->call({R"({"op":"begin","total_steps":4})", {}}).control.find("error"), std::string::npos);
  auto tokenizer = model::Tokenizer::load(kModel);
  const auto batch = train::shuffled_epochs(small_dataset(), *tokenizer, batching())(0).front();
  const auto shape = std::vector<int64_t>{batch.input_ids.size(0), batch.input_ids.size(1), 256};
  auto step = [&](const at::Tensor& hidden, int index) {
    const auto before = remote->stats().bytes_received;
    const auto reply = remote->call({R"({"op":"train","epoch":0,"index":)" + std::to_string(index) + "}",
                                     {to_wire("hidden", hidden), to_wire("attention_mask", batch.attention_mask),
                                      to_wire("labels", batch.labels)}});
    return std::make_pair(reply.control, remote->stats().bytes_received - before);
  };
  const auto [normal, normal_bytes] = step(torch::randn(shape), 0);
  const auto [nan, nan_bytes] = step(torch::full(shape, std::nan("")), 1);
  ASSERT_NE(nan.find("\"loss\":null"), std::string::npos) << nan;         // positive control: the replies differ
  ASSERT_EQ(normal.find("\"loss\":null"), std::string::npos) << normal;
  EXPECT_EQ(nan_bytes, normal_bytes);
}

}  // namespace
}  // namespace sg::split
