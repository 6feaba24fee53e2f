// The optimiser fields every training job shares (split/job.h, federated/job.h), written and read in one place:
// lr, weight_decay, warmup, max_grad_norm, accumulation.
#pragma once

#include <nlohmann/json.hpp>

#include "train/optimizer.h"

namespace sg::train {

inline void write_optimizer_fields(nlohmann::json& job, const OptimizerOptions& o) {
  job["lr"] = o.lr;
  job["weight_decay"] = o.weight_decay;
  job["warmup"] = o.warmup_steps;
  job["max_grad_norm"] = o.max_grad_norm;
  job["accumulation"] = o.accumulation;
}

// `reader` is a tee::JobReader (or anything with its read(field, out)).
template <class Reader>
void read_optimizer_fields(const Reader& reader, OptimizerOptions& o) {
  reader.read("lr", o.lr);
  reader.read("weight_decay", o.weight_decay);
  reader.read("warmup", o.warmup_steps);
  reader.read("max_grad_norm", o.max_grad_norm);
  reader.read("accumulation", o.accumulation);
}

}  // namespace sg::train
