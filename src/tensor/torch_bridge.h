// Between safetensors views and LibTorch tensors.
#pragma once

#include <ATen/core/Tensor.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tensor/safetensors.h"

namespace sg::tensor {

// A tensor over the mapped bytes when alignment allows (zero-copy, keeps `file` alive), else a copy.
// A zero-copy result lies in a read-only mapping (writing into it faults): callers that modify weights clone it.
[[nodiscard]] at::Tensor to_torch(const std::shared_ptr<const SafetensorsFile>& file, const TensorView& view);
// Loads `name` from a checkpoint as a tensor (zero-copy when possible).
[[nodiscard]] at::Tensor load_tensor(const Checkpoint& checkpoint, std::string_view name);

[[nodiscard]] at::ScalarType scalar_type(DType dtype);
[[nodiscard]] DType dtype_of(const at::Tensor& tensor);   // throws std::invalid_argument for unsupported dtypes

// Writes named tensors (made contiguous, on CPU) as one safetensors file.
void save_tensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                  const std::map<std::string, std::string>& metadata = {});

}  // namespace sg::tensor
