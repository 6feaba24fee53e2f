// What the Method 1 tests share: the bundled model, a slice of one task's training data, the batching.
#pragma once

#include <string>

#include "data/dataset.h"

namespace sg::federated {

inline const std::string kModel = std::string(SG_SOURCE_DIR) + "/models/sliceguard-med-tiny";
inline const std::string kData = std::string(SG_SOURCE_DIR) + "/data/medical/severity/train.jsonl";

inline data::Dataset dataset(std::size_t begin, std::size_t count) {
  auto d = data::load_jsonl(kData);
  d.examples = {d.examples.begin() + long(begin), d.examples.begin() + long(begin + count)};
  return d;
}

inline data::BatchOptions batching() {
  data::BatchOptions b;
  b.batch_size = 8;
  b.seed = 2;
  return b;
}

}  // namespace sg::federated
