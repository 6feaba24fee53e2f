#include "split/enclave_service.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <chrono>
#include <map>
#include <memory>

#include "model/transformer.h"
#include "split/job.h"
#include "split/protocol.h"
#include "split/trainer_pool.h"
#include "split/wire.h"
#include "tee/envelope_service.h"

namespace sg::split {
namespace {

using nlohmann::json;

crypto::Envelope reply(const json& control, std::vector<crypto::Tensor> tensors = {}) {
  return {control.dump(), std::move(tensors)};
}

// Per-session KV caches of the enclave's layers, for split generation.
using Caches = std::map<crypto::SessionId, model::KvCache>;

crypto::Envelope handle(TrainerPool& pool, Caches& caches, const crypto::SessionId& session,
                        const crypto::Envelope& request) {
  auto& trainer = pool.for_session(session);
  const auto control = json::parse(request.control, nullptr, /*allow_exceptions=*/false);
  if (!control.is_object() || !control.contains("op") || !control["op"].is_string())
    throw std::invalid_argument("request control is not a JSON object with a string 'op'");
  const auto op = control["op"].get<std::string>();
  if (op == op::kHello) {
    return reply({{"cut_layer", trainer.cut_layer()}, {"hidden_size", trainer.hidden_size()},
                  {"method", trainer.method()}, {"trainable_parameters", trainer.trainable_parameters()},
                  {"steps_done", trainer.steps_done()}, {"accumulation", trainer.accumulation()}});
  }
  if (op == op::kBegin) {
    trainer.begin(control.at("total_steps").get<int>());
    return reply({{"total_steps", trainer.total_steps()}, {"steps_done", trainer.steps_done()}});
  }
  auto hidden = from_wire(request, "hidden", torch::kFloat32, 3);
  if (op == op::kGenerate) {
    const auto past = control.at("past").get<int64_t>();
    auto& cache = caches[session];
    if (past == 0) cache = {};
    return reply(json::object(), {to_wire("logits", trainer.next_token_logits(hidden, cache, past))});
  }
  auto mask = from_wire(request, "attention_mask", torch::kInt64, 2);
  if (op == op::kTrain) {
    auto labels = from_wire(request, "labels", torch::kInt64, 2);
    const train::BatchPosition at{control.at("epoch").get<int>(), control.at("index").get<std::size_t>()};
    const auto start = std::chrono::steady_clock::now();
    const auto result = trainer.train(hidden, mask, labels, at);
    if (result.stepped) pool.after_step(trainer);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return reply({{"loss", result.loss}, {"stepped", result.stepped}, {"step", trainer.steps_done()},
                  {"lr", result.lr}, {"compute_seconds", seconds}});
  }
  if (op == op::kLogits) return reply(json::object(), {to_wire("logits", trainer.logits(hidden, mask))});
  throw std::invalid_argument("unknown op '" + op + "'");
}

}  // namespace

void install_split_service(tee::EnclaveRuntime& runtime, const tee::EnclaveConfig& config) {
  if (config.job.empty()) return;
  const auto job = SplitJob::parse(config.job, config.path);
  at::set_num_threads(job.threads);
  auto pool = std::make_shared<TrainerPool>(job, runtime.state());
  spdlog::info("split job: layers [{}, L) of {} with {}, {} mode", job.trainer.cut_layer, job.trainer.model_dir,
               job.trainer.method.method, job.parallel ? "parallel (SplitFed)" : "sequential");
  auto caches = std::make_shared<Caches>();
  tee::serve_envelopes(runtime, [pool, caches](const crypto::SessionId& session,
                                               crypto::Envelope request) -> tee::Result<crypto::Envelope> {
    try {
      return handle(*pool, *caches, session, request);
    } catch (const std::exception& e) {
      return reply({{"error", e.what()}});
    }
  });
}

}  // namespace sg::split
