// Named tensors in a LibTorch archive under a key prefix: how the round schemes (aggregator.h,
// masked_rounds.h) put their global adapter and submissions into their sealed snapshots.
#pragma once

#include <torch/serialize/archive.h>

#include <string>

#include "federated/aggregator.h"

namespace sg::federated {

inline void write_named(torch::serialize::OutputArchive& archive, const std::string& prefix, const NamedTensors& tensors) {
  for (const auto& [name, t] : tensors) archive.write(prefix + name, t);
}

inline NamedTensors read_named(torch::serialize::InputArchive& archive, const std::string& prefix) {
  NamedTensors out;
  for (const auto& key : archive.keys())
    if (key.rfind(prefix, 0) == 0) archive.read(key, out[key.substr(prefix.size())]);
  return out;
}

}  // namespace sg::federated
