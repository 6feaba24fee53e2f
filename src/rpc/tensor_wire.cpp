#include "rpc/tensor_wire.h"

#include <torch/torch.h>

#include <cstring>
#include <stdexcept>

#include "tensor/torch_bridge.h"

namespace sg::rpc {

crypto::Tensor to_wire(const std::string& name, const at::Tensor& tensor) {
  auto t = tensor.detach().to(torch::kCPU).contiguous();
  crypto::Tensor out;
  out.meta.name = name;
  out.meta.dtype = std::string(tensor::dtype_name(tensor::dtype_of(t)));
  out.meta.shape.assign(t.sizes().begin(), t.sizes().end());
  const auto* bytes = static_cast<const uint8_t*>(t.data_ptr());
  out.data.assign(bytes, bytes + t.nbytes());
  return out;
}

at::Tensor from_wire(const crypto::Envelope& envelope, const std::string& name, c10::ScalarType dtype, int64_t dims) {
  const crypto::Tensor* t = envelope.find(name);
  if (!t) throw std::invalid_argument("message has no tensor '" + name + "'");
  const auto expected = std::string(tensor::dtype_name(tensor::dtype_of(torch::empty({0}, dtype))));
  if (t->meta.dtype != expected)
    throw std::invalid_argument("tensor '" + name + "' has dtype " + t->meta.dtype + ", expected " + expected);
  if (int64_t(t->meta.shape.size()) != dims)
    throw std::invalid_argument("tensor '" + name + "' has " + std::to_string(t->meta.shape.size()) +
                                " dimensions, expected " + std::to_string(dims));
  // The receiver already checked that the bytes match the shape and dtype.
  auto out = torch::empty(t->meta.shape, dtype);
  std::memcpy(out.data_ptr(), t->data.data(), t->data.size());
  return out;
}

}  // namespace sg::rpc
