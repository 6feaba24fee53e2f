#include "federated/job.h"

#include "split/job_json.h"

#include <nlohmann/json.hpp>

namespace sg::federated {

using nlohmann::json;

std::string ClientJob::to_json() const {
  return json{{"kind", "federated-client"},  {"lora_r", lora.r},
              {"lora_alpha", lora.alpha},    {"lora_dropout", lora.dropout},
              {"target_modules", lora.target_modules}, {"lr", optimizer.lr},
              {"weight_decay", optimizer.weight_decay}, {"warmup", optimizer.warmup_steps},
              {"max_grad_norm", optimizer.max_grad_norm}, {"accumulation", optimizer.accumulation},
              {"seed", seed},                {"threads", threads}}
      .dump();
}

ClientJob ClientJob::parse(const std::string& json_text, const std::string& source) {
  const split::JobReader j(json_text, source, "federated-client", {"lora_r", "lora_alpha", "lora_dropout", "target_modules", "lr",
                                              "weight_decay", "warmup", "max_grad_norm", "accumulation", "seed",
                                              "threads"});
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
  return job;
}

}  // namespace sg::federated
