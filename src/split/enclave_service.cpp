#include "split/enclave_service.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <map>
#include <memory>

#include "model/config.h"
#include "model/transformer.h"
#include "rpc/serve.h"
#include "rpc/tensor_wire.h"
#include "split/job.h"
#include "split/protocol.h"
#include "split/trainer_pool.h"
#include "tee/client_identity.h"
#include "tee/envelope_service.h"
#include "runtime/compute_threads.h"

namespace sg::split {
namespace {

using nlohmann::json;
using rpc::from_wire;
using rpc::to_wire;
using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

train::BatchPosition position(const ops::BatchAt& at) { return {at.epoch, at.index}; }

ops::StepReply step_reply(const train::MicroStepResult& r, const train::SliceTrainer& trainer, double seconds) {
  return {r.loss, r.stepped, trainer.steps_done(), r.lr, seconds};
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

  // Every op of protocol.h, each on the trainer of the caller's identity.
  std::shared_ptr<const rpc::OpTable> ops(const std::shared_ptr<SplitService>& self) {
    auto table = std::make_shared<rpc::OpTable>();
    table->on<ops::Hello>([self](const tee::Caller& c, const rpc::Empty&, const crypto::Envelope&) {
      return self->hello(self->trainer(c));
    });
    table->on<ops::Begin>([self](const tee::Caller& c, const ops::Begin::Request& r, const crypto::Envelope&) {
      auto& trainer = self->trainer(c);
      trainer.begin(r.total_steps);
      return rpc::reply(ops::Begin::Reply{trainer.total_steps(), trainer.steps_done()});
    });
    table->on<ops::Train>([self](const tee::Caller& c, const ops::BatchAt& at, const crypto::Envelope& request) {
      return self->train(self->trainer(c), at, request);
    });
    table->on<ops::Forward>([self](const tee::Caller& c, const ops::BatchAt& at, const crypto::Envelope& request) {
      return self->forward(c.session, self->trainer(c), at, request);
    });
    table->on<ops::Backward>([self](const tee::Caller& c, const ops::Backward::Request& r,
                                    const crypto::Envelope& request) {
      return self->backward(c.session, self->trainer(c), r.loss, request);
    });
    table->on<ops::Logits>([self](const tee::Caller& c, const rpc::Empty&, const crypto::Envelope& request) {
      const auto in = cut_inputs(request);
      auto logits = self->trainer(c).logits(in.hidden, in.mask);
      return rpc::reply(json::object(), {to_wire(self->output_name(), logits)});
    });
    table->on<ops::Generate>([self](const tee::Caller& c, const ops::Generate::Request& r,
                                    const crypto::Envelope& request) {
      auto input = hidden(request);   // before the cache changes: a malformed request leaves it as it was
      auto& cache = self->caches_[c.session];
      if (r.past == 0) cache = {};
      auto logits = self->trainer(c).next_token_logits(input, cache, r.past);
      return rpc::reply(json::object(), {to_wire(self->output_name(), logits)});
    });
    return table;
  }

 private:
  train::SliceTrainer& trainer(const tee::Caller& caller) { return pool_.for_client(caller.peer.to_bytes()); }

  static at::Tensor hidden(const crypto::Envelope& request) { return from_wire(request, "hidden", torch::kFloat32, 3); }
  // The cut-layer activations and their mask, read in that order (a request without them names 'hidden').
  struct CutInputs {
    at::Tensor hidden, mask;
  };
  static CutInputs cut_inputs(const crypto::Envelope& request) {
    auto h = hidden(request);
    return {h, from_wire(request, "attention_mask", torch::kInt64, 2)};
  }

  crypto::Envelope hello(const train::SliceTrainer& trainer) const {
    return rpc::reply(ops::Hello::Reply{plan_, trainer.cut_layer(), int(trainer.hidden_size()), trainer.method(),
                                        trainer.trainable_parameters(), trainer.steps_done(), trainer.accumulation(),
                                        runtime_.state_generation()});
  }

  crypto::Envelope train(train::SliceTrainer& trainer, const ops::BatchAt& at, const crypto::Envelope& request) {
    const auto in = cut_inputs(request);
    const auto start = Clock::now();   // compute time: the inputs' decoding is not part of it
    const auto result = trainer.train(in.hidden, in.mask, from_wire(request, "labels", torch::kInt64, 2), position(at));
    if (result.stepped) pool_.after_step(trainer);
    return rpc::reply(step_reply(result, trainer, since(start)));
  }

  // U-shaped: our output goes to the client's head; its gradient comes back in `backward`.
  crypto::Envelope forward(const crypto::SessionId& session, train::SliceTrainer& trainer, const ops::BatchAt& at,
                           const crypto::Envelope& request) {
    const auto in = cut_inputs(request);
    const auto start = Clock::now();   // compute time: the inputs' decoding is not part of it
    auto output = trainer.forward_to_client(in.hidden, in.mask, position(at));
    pending_[session] = output;
    return rpc::reply(ops::Forward::Reply{since(start)}, {to_wire("output", output)});
  }

  // U-shaped: the client's gradient at our output finishes the micro-step begun by `forward`.
  crypto::Envelope backward(const crypto::SessionId& session, train::SliceTrainer& trainer, double loss,
                            const crypto::Envelope& request) {
    auto pending = pending_.find(session);
    if (pending == pending_.end()) throw std::invalid_argument("backward without a forward on this session");
    const auto output = std::move(pending->second);
    pending_.erase(pending);
    const auto start = Clock::now();
    const auto result = trainer.backward_from_client(output, from_wire(request, "grad", torch::kFloat32, 3), loss);
    if (result.stepped) pool_.after_step(trainer);
    return rpc::reply(step_reply(result, trainer, since(start)));
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
  runtime::set_compute_threads(job.threads);
  admit_enrolled_clients(runtime, job);
  auto service = std::make_shared<SplitService>(job, runtime);
  runtime.on_session_closed([service](const crypto::SessionId& session) { service->forget(session); });
  spdlog::info("split job: layers [{}, L){} of {} with {}, {} mode", job.trainer.cut_layer,
               job.trainer.head ? " + head" : " (u-shaped: the head stays on the client)", job.trainer.model_dir,
               job.trainer.method.method, job.parallel ? "parallel (SplitFed)" : "sequential");
  rpc::serve(runtime, service->ops(service), request_limits(job));
}

}  // namespace sg::split
