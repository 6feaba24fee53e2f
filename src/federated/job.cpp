#include "federated/job.h"

#include <nlohmann/json.hpp>

#include <set>
#include <stdexcept>

namespace sg::federated {
namespace {
using nlohmann::json;

template <class T>
void read(const json& j, const char* field, T& out, const std::string& source) {
  if (!j.contains(field)) return;
  try {
    out = j.at(field).get<T>();
  } catch (const json::exception&) {
    throw std::invalid_argument(source + ": job field '" + field + "' has the wrong type");
  }
}
}  // namespace

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
  const auto j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) throw std::invalid_argument(source + ": the job is not a JSON object");
  static const std::set<std::string> known = {"kind", "lora_r", "lora_alpha", "lora_dropout", "target_modules", "lr",
                                              "weight_decay", "warmup", "max_grad_norm", "accumulation", "seed",
                                              "threads"};
  for (const auto& item : j.items())
    if (!known.count(item.key())) throw std::invalid_argument(source + ": unknown job field '" + item.key() + "'");
  if (j.value("kind", std::string()) != "federated-client")
    throw std::invalid_argument(source + ": job field 'kind' must be \"federated-client\"");
  ClientJob job;
  read(j, "lora_r", job.lora.r, source);
  read(j, "lora_alpha", job.lora.alpha, source);
  read(j, "lora_dropout", job.lora.dropout, source);
  read(j, "target_modules", job.lora.target_modules, source);
  if (job.lora.target_modules.empty())
    throw std::invalid_argument(source + ": job field 'target_modules' must name at least one module");
  read(j, "lr", job.optimizer.lr, source);
  read(j, "weight_decay", job.optimizer.weight_decay, source);
  read(j, "warmup", job.optimizer.warmup_steps, source);
  read(j, "max_grad_norm", job.optimizer.max_grad_norm, source);
  read(j, "accumulation", job.optimizer.accumulation, source);
  read(j, "seed", job.seed, source);
  read(j, "threads", job.threads, source);
  if (job.threads < 1) throw std::invalid_argument(source + ": job field 'threads' must be >= 1");
  return job;
}

}  // namespace sg::federated
