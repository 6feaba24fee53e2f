#include "federated/job.h"

#include "split/job_json.h"
#include "tee/policy.h"

#include <nlohmann/json.hpp>

namespace sg::federated {

using nlohmann::json;

std::string ClientJob::to_json() const {
  json j{{"kind", "federated-client"},  {"lora_r", lora.r},
              {"lora_alpha", lora.alpha},    {"lora_dropout", lora.dropout},
              {"target_modules", lora.target_modules}, {"lr", optimizer.lr},
              {"weight_decay", optimizer.weight_decay}, {"warmup", optimizer.warmup_steps},
              {"max_grad_norm", optimizer.max_grad_norm}, {"accumulation", optimizer.accumulation},
              {"seed", seed},                {"threads", threads}};
  if (!server_policy.empty()) j["server_policy"] = json::parse(server_policy);
  return j.dump();
}

ClientJob ClientJob::parse(const std::string& json_text, const std::string& source) {
  const split::JobReader j(json_text, source, "federated-client", {"lora_r", "lora_alpha", "lora_dropout", "target_modules", "lr",
                                              "weight_decay", "warmup", "max_grad_norm", "accumulation", "seed",
                                              "threads", "server_policy"});
  ClientJob job;
  j.read("lora_r", job.lora.r);
  j.read("lora_alpha", job.lora.alpha);
  j.read("lora_dropout", job.lora.dropout);
  j.read("target_modules", job.lora.target_modules);
  if (job.lora.target_modules.empty())
    j.fail("target_modules", "must name at least one module");
  j.read("lr", job.optimizer.lr);
  j.read("weight_decay", job.optimizer.weight_decay);
  j.read("warmup", job.optimizer.warmup_steps);
  j.read("max_grad_norm", job.optimizer.max_grad_norm);
  j.read("accumulation", job.optimizer.accumulation);
  j.read("seed", job.seed);
  j.read("threads", job.threads);
  if (job.threads < 1) j.fail("threads", "must be >= 1");
  json policy;
  j.read("server_policy", policy);
  if (!policy.is_null()) {
    job.server_policy = policy.dump();
    if (auto parsed = tee::Policy::parse(job.server_policy, source + ": job field 'server_policy'"); !parsed)
      j.fail("server_policy", "is not a valid policy: " + parsed.error().message);
  }
  return job;
}

std::string ServerJob::to_json() const {
  return json{{"kind", "federated-server"}, {"rounds", rounds.rounds}, {"clients_per_round", rounds.clients_per_round},
              {"quorum", rounds.quorum}, {"round_timeout_ms", rounds.round_timeout.count()}, {"threads", threads}}
      .dump();
}

ServerJob ServerJob::parse(const std::string& json_text, const std::string& source) {
  const split::JobReader j(json_text, source, "federated-server",
                           {"rounds", "clients_per_round", "quorum", "round_timeout_ms", "threads"});
  ServerJob job;
  j.read("rounds", job.rounds.rounds);
  j.read("clients_per_round", job.rounds.clients_per_round);
  job.rounds.quorum = job.rounds.clients_per_round;
  j.read("quorum", job.rounds.quorum);
  int64_t timeout_ms = job.rounds.round_timeout.count();
  j.read("round_timeout_ms", timeout_ms);
  job.rounds.round_timeout = std::chrono::milliseconds(timeout_ms);
  j.read("threads", job.threads);
  if (job.rounds.rounds < 1) j.fail("rounds", "must be >= 1");
  if (job.rounds.clients_per_round < 1) j.fail("clients_per_round", "must be >= 1");
  if (job.rounds.quorum < 1 || job.rounds.quorum > job.rounds.clients_per_round)
    j.fail("quorum", "must be in [1, clients_per_round]");
  if (timeout_ms < 1) j.fail("round_timeout_ms", "must be >= 1");
  if (job.threads < 1) j.fail("threads", "must be >= 1");
  return job;
}

}  // namespace sg::federated
