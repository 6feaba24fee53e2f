#include "split/job.h"

#include <nlohmann/json.hpp>

#include "tee/job_reader.h"
#include "tee/signing_key_file.h"
#include "train/optimizer_fields.h"

namespace sg::split {

using nlohmann::json;

std::string SplitJob::to_json() const {
  const auto& t = trainer;
  const auto& m = t.method;
  std::vector<std::string> client_keys;
  for (const auto& key : clients) client_keys.push_back(crypto::to_hex(key));
  json j{{"kind", "split"},          {"plan", t.head ? "split" : "u-shaped"}, {"model", t.model_dir},
         {"cut_layer", t.cut_layer},   {"method", m.method},       {"lora_r", m.lora.r},
         {"lora_alpha", m.lora.alpha}, {"lora_dropout", m.lora.dropout}, {"spf_density", m.spf.density},
         {"spf_score", peft::spf_score_name(m.spf.score)},           {"seed", t.seed},
         {"total_steps", t.total_steps}, {"threads", threads},       {"seal_every", seal_every},
         {"mode", parallel ? "parallel" : "sequential"}, {"average_every", average_every},
         {"clients", client_keys},     {"model_digest", model_digest}, {"max_batch_tokens", max_batch_tokens}};
  train::write_optimizer_fields(j, t.optimizer);
  return j.dump();
}

SplitJob SplitJob::parse(const std::string& json_text, const std::string& source) {
  const tee::JobReader j(json_text, source, "split", {"plan", "model", "cut_layer", "method", "lora_r", "lora_alpha",
                                              "lora_dropout", "spf_density", "spf_score", "lr", "weight_decay",
                                              "warmup", "max_grad_norm", "accumulation", "seed", "total_steps",
                                              "threads", "seal_every", "mode", "average_every", "clients",
                                              "model_digest", "max_batch_tokens"});
  SplitJob job;
  auto& t = job.trainer;
  if (!j.has("model")) j.fail("model", "is required");
  j.read("model", t.model_dir);
  j.read("cut_layer", t.cut_layer);
  std::string plan = "split";
  j.read("plan", plan);
  if (plan != "split" && plan != "u-shaped")
    j.fail("plan", "must be \"split\" or \"u-shaped\", got \"" + plan + "\"");
  t.head = plan == "split";
  j.read("method", t.method.method);
  j.read("lora_r", t.method.lora.r);
  j.read("lora_alpha", t.method.lora.alpha);
  j.read("lora_dropout", t.method.lora.dropout);
  j.read("spf_density", t.method.spf.density);
  std::string score = "l1";
  j.read("spf_score", score);
  t.method.spf.score = peft::parse_spf_score(score);
  train::read_optimizer_fields(j, t.optimizer);
  j.read("seed", t.seed);
  t.method.spf.seed = t.seed;
  j.read("total_steps", t.total_steps);
  j.read("threads", job.threads);
  j.read("seal_every", job.seal_every);
  if (job.seal_every < 0) j.fail("seal_every", "must be >= 0");
  std::string mode = "sequential";
  j.read("mode", mode);
  if (mode != "sequential" && mode != "parallel")
    j.fail("mode", "must be \"sequential\" or \"parallel\", got \"" + mode + "\"");
  job.parallel = mode == "parallel";
  j.read("average_every", job.average_every);
  if (job.average_every < 1) j.fail("average_every", "must be >= 1");
  if (job.threads < 1) j.fail("threads", "must be >= 1");
  std::vector<std::string> client_keys;
  j.read("clients", client_keys);
  if (client_keys.empty())
    j.fail("clients", "must list at least one enrolled client key (sliceguard server --enroll): without it "
                      "anyone reaching the server, its operator included, could use the enclave");
  for (const auto& hex : client_keys) {
    auto key = tee::parse_verify_key_hex(hex, source + ": job field 'clients'");
    if (!key) throw std::invalid_argument(key.error().message);
    job.clients.push_back(*key);
  }
  j.read("model_digest", job.model_digest);
  if (job.model_digest.size() != 64) j.fail("model_digest", "must be the 64-hex-digit digest of the server slice");
  j.read("max_batch_tokens", job.max_batch_tokens);
  if (job.max_batch_tokens < 1) j.fail("max_batch_tokens", "must be >= 1");
  return job;
}

}  // namespace sg::split
