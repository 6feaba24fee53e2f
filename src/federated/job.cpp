#include "federated/job.h"

#include "tee/job_reader.h"
#include "tee/policy.h"
#include "train/optimizer_fields.h"

#include <nlohmann/json.hpp>

namespace sg::federated {

using nlohmann::json;

namespace {
// A policy object embedded in a job, as JSON text (empty when absent); an invalid policy names the field.
std::string read_policy(const tee::JobReader& j, const char* field, const std::string& source) {
  json policy;
  j.read(field, policy);
  if (policy.is_null()) return {};
  if (auto parsed = tee::Policy::parse(policy.dump(), source + ": job field '" + field + "'"); !parsed)
    j.fail(field, "is not a valid policy: " + parsed.error().message);
  return policy.dump();
}
}  // namespace

std::string ClientJob::to_json() const {
  json j{{"kind", "federated-client"}, {"method", method},        {"lora_r", lora.r},
         {"lora_alpha", lora.alpha},     {"lora_dropout", lora.dropout}, {"target_modules", lora.target_modules},
         {"seed", seed},                 {"threads", threads},      {"min_participants", min_participants}};
  train::write_optimizer_fields(j, optimizer);
  if (method == "ptuning") {
    j["num_virtual_tokens"] = prefix.num_virtual_tokens;
    j["prefix_projection"] = prefix.prefix_projection;
  }
  if (!server_policy.empty()) j["server_policy"] = json::parse(server_policy);
  if (!peer_policy.empty()) j["peer_policy"] = json::parse(peer_policy);
  if (secure_aggregation) j["secure_aggregation"] = true;
  return j.dump();
}

ClientJob ClientJob::parse(const std::string& json_text, const std::string& source) {
  const tee::JobReader j(json_text, source, "federated-client", {"method", "lora_r", "lora_alpha", "lora_dropout", "target_modules",
                                              "num_virtual_tokens", "prefix_projection", "lr",
                                              "weight_decay", "warmup", "max_grad_norm", "accumulation", "seed",
                                              "threads", "server_policy", "min_participants", "peer_policy",
                                              "secure_aggregation"});
  ClientJob job;
  j.read("method", job.method);
  if (job.method != "lora" && job.method != "ptuning") j.fail("method", "must be \"lora\" or \"ptuning\"");
  j.read("num_virtual_tokens", job.prefix.num_virtual_tokens);
  if (job.prefix.num_virtual_tokens < 1) j.fail("num_virtual_tokens", "must be >= 1");
  j.read("prefix_projection", job.prefix.prefix_projection);
  j.read("lora_r", job.lora.r);
  j.read("lora_alpha", job.lora.alpha);
  j.read("lora_dropout", job.lora.dropout);
  j.read("target_modules", job.lora.target_modules);
  if (job.method == "lora" && job.lora.target_modules.empty())
    j.fail("target_modules", "must name at least one module");
  train::read_optimizer_fields(j, job.optimizer);
  j.read("seed", job.seed);
  j.read("threads", job.threads);
  if (job.threads < 1) j.fail("threads", "must be >= 1");
  j.read("min_participants", job.min_participants);
  if (job.min_participants < 2) j.fail("min_participants", "must be >= 2 (a sum of one is the update itself)");
  job.server_policy = read_policy(j, "server_policy", source);
  job.peer_policy = read_policy(j, "peer_policy", source);
  j.read("secure_aggregation", job.secure_aggregation);
  if (job.secure_aggregation && job.peer_policy.empty())
    j.fail("secure_aggregation", "needs a peer_policy (the client enclaves this one masks among)");
  return job;
}

std::string ServerJob::to_json() const {
  json j{{"kind", "federated-server"}, {"rounds", rounds.rounds}, {"clients_per_round", rounds.clients_per_round},
         {"quorum", rounds.quorum}, {"round_timeout_ms", rounds.round_timeout.count()}, {"threads", threads},
         {"secure_aggregation", secure_aggregation}, {"min_participants", min_participants}};
  if (clients > 0) j["clients"] = clients;
  if (!client_policy.empty()) j["client_policy"] = json::parse(client_policy);
  return j.dump();
}

ServerJob ServerJob::parse(const std::string& json_text, const std::string& source) {
  const tee::JobReader j(json_text, source, "federated-server",
                           {"rounds", "clients_per_round", "quorum", "round_timeout_ms", "threads", "client_policy",
                            "secure_aggregation", "clients", "min_participants"});
  ServerJob job;
  j.read("rounds", job.rounds.rounds);
  j.read("clients_per_round", job.rounds.clients_per_round);
  job.rounds.quorum = job.rounds.clients_per_round;
  j.read("quorum", job.rounds.quorum);
  int64_t timeout_ms = job.rounds.round_timeout.count();
  j.read("round_timeout_ms", timeout_ms);
  job.rounds.round_timeout = std::chrono::milliseconds(timeout_ms);
  j.read("threads", job.threads);
  j.read("secure_aggregation", job.secure_aggregation);
  job.clients = job.rounds.clients_per_round;
  j.read("clients", job.clients);
  if (job.rounds.rounds < 1) j.fail("rounds", "must be >= 1");
  if (job.rounds.clients_per_round < 1) j.fail("clients_per_round", "must be >= 1");
  if (job.rounds.quorum < 1 || job.rounds.quorum > job.rounds.clients_per_round)
    j.fail("quorum", "must be in [1, clients_per_round]");
  if (timeout_ms < 1) j.fail("round_timeout_ms", "must be >= 1");
  if (job.clients < job.rounds.clients_per_round) j.fail("clients", "must be >= clients_per_round");
  if (job.threads < 1) j.fail("threads", "must be >= 1");
  j.read("min_participants", job.min_participants);
  if (job.min_participants < 2) j.fail("min_participants", "must be >= 2 (a sum of one is the update itself)");
  if (job.secure_aggregation && job.rounds.quorum < job.min_participants)
    j.fail("quorum", "is " + std::to_string(job.rounds.quorum) + "; with secure aggregation it must be at least "
                     "min_participants (" + std::to_string(job.min_participants) + "): a smaller sum reveals too much");
  job.client_policy = read_policy(j, "client_policy", source);
  if (job.client_policy.empty()) j.fail("client_policy", "is required (mutual attestation: which client enclaves may join)");
  return job;
}

}  // namespace sg::federated
