#include "tensor/torch_bridge.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace sg::tensor {
namespace {

constexpr std::array<std::pair<DType, at::ScalarType>, 10> kScalarTypes = {{{DType::F64, at::kDouble},
                                                                           {DType::F32, at::kFloat},
                                                                           {DType::F16, at::kHalf},
                                                                           {DType::BF16, at::kBFloat16},
                                                                           {DType::I64, at::kLong},
                                                                           {DType::I32, at::kInt},
                                                                           {DType::I16, at::kShort},
                                                                           {DType::I8, at::kChar},
                                                                           {DType::U8, at::kByte},
                                                                           {DType::BOOL, at::kBool}}};

}  // namespace

at::ScalarType scalar_type(DType dtype) {
  const auto it =
      std::find_if(kScalarTypes.begin(), kScalarTypes.end(), [&](const auto& p) { return p.first == dtype; });
  if (it == kScalarTypes.end()) throw std::invalid_argument("invalid DType value");
  return it->second;
}

at::Tensor to_torch(const std::shared_ptr<const SafetensorsFile>& file, const TensorView& view) {
  const auto options = at::TensorOptions().dtype(scalar_type(view.dtype));
  // Kernels assume element-aligned data. The data section starts 8-aligned in our files, but the format packs
  // tensors back to back, so e.g. an F32 after an odd-sized U8 tensor is misaligned and must be copied.
  const bool aligned = reinterpret_cast<std::uintptr_t>(view.data) % dtype_size(view.dtype) == 0;
  if (aligned && view.nbytes > 0) {
    // The deleter owns a reference to the file, so the mapping outlives every tensor over it. The mapping is
    // PROT_READ: writing into the tensor faults, hence callers that modify weights clone them first.
    return torch::from_blob(const_cast<std::byte*>(view.data), view.shape, [file](void*) {}, options);
  }
  at::Tensor copy = torch::empty(view.shape, options);
  if (view.nbytes > 0) std::memcpy(copy.data_ptr(), view.data, view.nbytes);
  return copy;
}

at::Tensor load_tensor(const Checkpoint& checkpoint, std::string_view name) {
  const auto file = checkpoint.file_of(name);
  return to_torch(file, file->at(name));
}

DType dtype_of(const at::Tensor& tensor) {
  const auto it = std::find_if(kScalarTypes.begin(), kScalarTypes.end(),
                               [&](const auto& p) { return p.second == tensor.scalar_type(); });
  if (it == kScalarTypes.end())
    throw std::invalid_argument(std::string("safetensors cannot hold dtype ") + at::toString(tensor.scalar_type()));
  return it->first;
}

void save_tensors(const std::string& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                  const std::map<std::string, std::string>& metadata) {
  std::vector<at::Tensor> contiguous;   // owns the bytes that `data` points into until the write is done
  contiguous.reserve(tensors.size());
  std::vector<TensorData> data;
  data.reserve(tensors.size());
  for (const auto& [name, tensor] : tensors) {
    const at::Tensor& t = contiguous.emplace_back(tensor.detach().to(at::kCPU).contiguous());
    data.push_back({name, dtype_of(t), t.sizes().vec(), t.data_ptr(), t.nbytes()});
  }
  write_safetensors(path, data, metadata);
}

}  // namespace sg::tensor
