#include "split/job.h"

#include <nlohmann/json.hpp>

#include <set>
#include <stdexcept>

namespace sg::split {
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

std::string SplitJob::to_json() const {
  const auto& t = trainer;
  const auto& m = t.method;
  const auto& o = t.optimizer;
  return json{{"kind", "split"},          {"plan", t.head ? "split" : "u-shaped"}, {"model", t.model_dir},         {"cut_layer", t.cut_layer},
              {"method", m.method},       {"lora_r", m.lora.r},           {"lora_alpha", m.lora.alpha},
              {"lora_dropout", m.lora.dropout}, {"spf_density", m.spf.density},
              {"spf_score", peft::spf_score_name(m.spf.score)},           {"lr", o.lr},
              {"weight_decay", o.weight_decay}, {"warmup", o.warmup_steps}, {"max_grad_norm", o.max_grad_norm},
              {"accumulation", o.accumulation}, {"seed", t.seed},         {"total_steps", t.total_steps},
              {"threads", threads},               {"seal_every", seal_every},
              {"mode", parallel ? "parallel" : "sequential"}, {"average_every", average_every}}
      .dump();
}

SplitJob SplitJob::parse(const std::string& json_text, const std::string& source) {
  const auto j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) throw std::invalid_argument(source + ": the job is not a JSON object");
  static const std::set<std::string> known = {"kind", "plan", "model", "cut_layer", "method", "lora_r", "lora_alpha",
                                              "lora_dropout", "spf_density", "spf_score", "lr", "weight_decay",
                                              "warmup", "max_grad_norm", "accumulation", "seed", "total_steps",
                                              "threads", "seal_every", "mode", "average_every"};
  for (const auto& item : j.items())
    if (!known.count(item.key())) throw std::invalid_argument(source + ": unknown job field '" + item.key() + "'");
  if (j.value("kind", std::string()) != "split")
    throw std::invalid_argument(source + ": job field 'kind' must be \"split\"");
  SplitJob job;
  auto& t = job.trainer;
  if (!j.contains("model")) throw std::invalid_argument(source + ": job field 'model' is required");
  read(j, "model", t.model_dir, source);
  read(j, "cut_layer", t.cut_layer, source);
  std::string plan = "split";
  read(j, "plan", plan, source);
  if (plan != "split" && plan != "u-shaped")
    throw std::invalid_argument(source + ": job field 'plan' must be \"split\" or \"u-shaped\", got \"" + plan + "\"");
  t.head = plan == "split";
  read(j, "method", t.method.method, source);
  read(j, "lora_r", t.method.lora.r, source);
  read(j, "lora_alpha", t.method.lora.alpha, source);
  read(j, "lora_dropout", t.method.lora.dropout, source);
  read(j, "spf_density", t.method.spf.density, source);
  std::string score = "l1";
  read(j, "spf_score", score, source);
  t.method.spf.score = peft::parse_spf_score(score);
  read(j, "lr", t.optimizer.lr, source);
  read(j, "weight_decay", t.optimizer.weight_decay, source);
  read(j, "warmup", t.optimizer.warmup_steps, source);
  read(j, "max_grad_norm", t.optimizer.max_grad_norm, source);
  read(j, "accumulation", t.optimizer.accumulation, source);
  read(j, "seed", t.seed, source);
  t.method.spf.seed = t.seed;
  read(j, "total_steps", t.total_steps, source);
  read(j, "threads", job.threads, source);
  read(j, "seal_every", job.seal_every, source);
  if (job.seal_every < 0) throw std::invalid_argument(source + ": job field 'seal_every' must be >= 0");
  std::string mode = "sequential";
  read(j, "mode", mode, source);
  if (mode != "sequential" && mode != "parallel")
    throw std::invalid_argument(source + ": job field 'mode' must be \"sequential\" or \"parallel\", got \"" + mode + "\"");
  job.parallel = mode == "parallel";
  read(j, "average_every", job.average_every, source);
  if (job.average_every < 1) throw std::invalid_argument(source + ": job field 'average_every' must be >= 1");
  if (job.threads < 1) throw std::invalid_argument(source + ": job field 'threads' must be >= 1");
  return job;
}

}  // namespace sg::split
