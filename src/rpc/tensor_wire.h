// LibTorch tensors as envelope tensors (crypto/tensor_payload.h): name, safetensors dtype, shape, raw bytes.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

#include "crypto/envelope.h"

namespace sg::rpc {

crypto::Tensor to_wire(const std::string& name, const at::Tensor& tensor);
// The envelope's tensor `name` as a LibTorch tensor of `dtype` with `dims` dimensions; throws
// std::invalid_argument naming the tensor when it is missing or of another dtype or rank.
at::Tensor from_wire(const crypto::Envelope& envelope, const std::string& name, c10::ScalarType dtype, int64_t dims);

}  // namespace sg::rpc
