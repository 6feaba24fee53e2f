#include "split/enclave_service.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <map>
#include <memory>

#include "model/config.h"
#include "model/transformer.h"
#include "split/job.h"
#include "split/protocol.h"
#include "split/trainer_pool.h"
#include "split/wire.h"
#include "tee/client_identity.h"
#include "tee/envelope_service.h"
#include "train/compute_threads.h"

namespace sg::split {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

train::BatchPosition position(const json& control) {
  return {control.at("epoch").get<int>(), control.at("index").get<std::size_t>()};
}

json step_reply(const train::MicroStepResult& r, const train::SliceTrainer& trainer, double seconds) {
  return {{"loss", r.loss}, {"stepped", r.stepped}, {"step", trainer.steps_done()}, {"lr", r.lr}, {"compute_seconds", seconds}};
}

// One request at a time, from the sessions of enrolled clients only (the runtime admits nobody else);
// per-session state is what a session's sequence of requests needs, and goes when the session closes.
class SplitService {
 public:
  SplitService(const SplitJob& job, tee::EnclaveRuntime& runtime)
      : runtime_(runtime), pool_(job, runtime.state()), head_(job.trainer.head), plan_(head_ ? "split" : "u-shaped") {}

  void forget(const crypto::SessionId& session) {
    caches_.erase(session);
    pending_.erase(session);
  }

  crypto::Envelope handle(const tee::Caller& caller, const std::string& op, const json& control,
                          const crypto::Envelope& request) {
    const auto& session = caller.session;
    auto& trainer = pool_.for_client(caller.peer.to_bytes());
    if (op == op::kHello) {
      return json_reply({{"plan", plan_}, {"cut_layer", trainer.cut_layer()}, {"hidden_size", trainer.hidden_size()},
                    {"method", trainer.method()}, {"trainable_parameters", trainer.trainable_parameters()},
                    {"steps_done", trainer.steps_done()}, {"accumulation", trainer.accumulation()},
                    {"state_generation", runtime_.state_generation()}});
    }
    if (op == op::kBegin) {
      trainer.begin(control.at("total_steps").get<int>());
      return json_reply({{"total_steps", trainer.total_steps()}, {"steps_done", trainer.steps_done()}});
    }
    if (op == op::kBackward) return backward(session, trainer, request, control);
    auto hidden = from_wire(request, "hidden", torch::kFloat32, 3);
    if (op == op::kGenerate) {
      const auto past = control.at("past").get<int64_t>();
      auto& cache = caches_[session];
      if (past == 0) cache = {};
      return json_reply(json::object(), {to_wire(output_name(), trainer.next_token_logits(hidden, cache, past))});
    }
    auto mask = from_wire(request, "attention_mask", torch::kInt64, 2);
    if (op == op::kLogits) return json_reply(json::object(), {to_wire(output_name(), trainer.logits(hidden, mask))});
    const auto start = Clock::now();
    if (op == op::kTrain) {
      const auto result = trainer.train(hidden, mask, from_wire(request, "labels", torch::kInt64, 2), position(control));
      if (result.stepped) pool_.after_step(trainer);
      return json_reply(step_reply(result, trainer, since(start)));
    }
    if (op == op::kForward) {
      auto output = trainer.forward_to_client(hidden, mask, position(control));
      pending_[session] = output;
      return json_reply({{"compute_seconds", since(start)}}, {to_wire("output", output)});
    }
    throw std::invalid_argument("unknown op '" + op + "'");
  }

 private:
  // U-shaped: the client's gradient at our output finishes the micro-step begun by `forward`.
  crypto::Envelope backward(const crypto::SessionId& session, train::SliceTrainer& trainer,
                            const crypto::Envelope& request, const json& control) {
    auto pending = pending_.find(session);
    if (pending == pending_.end()) throw std::invalid_argument("backward without a forward on this session");
    const auto output = std::move(pending->second);
    pending_.erase(pending);
    const auto start = Clock::now();
    const auto result = trainer.backward_from_client(output, from_wire(request, "grad", torch::kFloat32, 3),
                                                     control.at("loss").get<double>());
    if (result.stepped) pool_.after_step(trainer);
    return json_reply(step_reply(result, trainer, since(start)));
  }

  // Split slices end with the head (logits); u-shaped ones hand their last layer's output to the client's head.
  const char* output_name() const { return head_ ? "logits" : "output"; }

  const tee::EnclaveRuntime& runtime_;
  TrainerPool pool_;
  bool head_;
  std::string plan_;
  std::map<crypto::SessionId, model::KvCache> caches_;   // split generation
  std::map<crypto::SessionId, at::Tensor> pending_;      // u-shaped: outputs awaiting their gradient
};

// Only the job's enrolled clients open sessions: each proves its key over the handshake, before anything is
// allocated for it; a client holds a few sessions at most (its oldest closes when it opens one more).
void admit_enrolled_clients(tee::EnclaveRuntime& runtime, const SplitJob& job) {
  runtime.admit_peers([clients = job.clients](const crypto::KxPublicKey& peer, tee::ByteView proof,
                                              const crypto::KxPublicKey& own) -> tee::Result<crypto::Bytes> {
    auto key = tee::check_identity_proof(proof, own, peer, clients);
    if (!key) return crypto::unexpected(key.error());
    return crypto::Bytes(key->begin(), key->end());
  });
  tee::SessionLimits limits;
  limits.max_sessions = job.clients.size() * limits.per_peer;
  runtime.limit_sessions(limits);
}

// The largest request a client can need: (B,T,D) float32 activations or gradients, (B,T) int64 masks and labels.
tee::EnvelopeLimits request_limits(const SplitJob& job) {
  const auto hidden = model::load_config(job.trainer.model_dir).hidden_size;
  return {uint64_t(job.max_batch_tokens) * uint64_t(std::max<int64_t>(hidden * 4, 8)), 3};
}

}  // namespace

void install_split_service(tee::EnclaveRuntime& runtime, const tee::EnclaveConfig& config) {
  if (config.job.empty()) return;
  const auto job = SplitJob::parse(config.job, config.path);
  train::set_compute_threads(job.threads);
  admit_enrolled_clients(runtime, job);
  auto service = std::make_shared<SplitService>(job, runtime);
  runtime.on_session_closed([service](const crypto::SessionId& session) { service->forget(session); });
  spdlog::info("split job: layers [{}, L){} of {} with {}, {} mode", job.trainer.cut_layer,
               job.trainer.head ? " + head" : " (u-shaped: the head stays on the client)", job.trainer.model_dir,
               job.trainer.method.method, job.parallel ? "parallel (SplitFed)" : "sequential");
  serve_json_requests(runtime, [service](const tee::Caller& caller, const std::string& op,
                                          const json& control, const crypto::Envelope& request) {
    return service->handle(caller, op, control, request);
  }, request_limits(job));
}

}  // namespace sg::split
