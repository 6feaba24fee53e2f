// LibTorch archives as bytes: how sealed snapshots (the split trainer, the federated round schemes and client)
// enter an enclave's trusted state and come back out of it.
#pragma once

#include <torch/serialize/archive.h>

#include <sstream>
#include <string>

namespace sg::tensor {

inline std::string archive_bytes(torch::serialize::OutputArchive& archive) {
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

inline void load_archive_bytes(torch::serialize::InputArchive& archive, const std::string& bytes) {
  std::istringstream in(bytes);
  archive.load_from(in);
}

}  // namespace sg::tensor
