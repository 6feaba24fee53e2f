// libFuzzer entry: SafetensorsFile::parse over arbitrary bytes. Malformed input must end in a FormatError with a
// one-line message; a crash, a sanitizer report, any other exception or a broken invariant is a bug.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "tensor/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using sg::tensor::SafetensorsFile;
  try {
    const auto file = SafetensorsFile::parse(reinterpret_cast<const std::byte*>(data), size, "fuzz");
    [[maybe_unused]] volatile std::byte sink{};
    for (const auto& t : file->tensors()) {
      // Touch both ends of every view: ASan reports a view reaching outside the input.
      if (t.nbytes > 0) sink = t.data[0] ^ t.data[t.nbytes - 1];
      if (static_cast<std::size_t>(t.numel()) * sg::tensor::dtype_size(t.dtype) != t.nbytes) __builtin_trap();
      if (file->find(t.name) != &t) __builtin_trap();
    }
  } catch (const sg::tensor::FormatError& e) {
    if (std::strchr(e.what(), '\n') != nullptr) __builtin_trap();
  }
  return 0;
}
