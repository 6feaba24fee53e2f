// safetensors files: parse (mmap, zero-copy), validate, write; sharded checkpoints via the index json.
// The parser is torch-free so it can be fuzzed alone; torch_bridge.h turns views into tensors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sg::tensor {

// A file that violates the format. what() is one line: "<file>: tensor '<name>': <problem>", or
// "<file>: <problem>" when the problem is not with one tensor.
struct FormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

[[nodiscard]] std::size_t dtype_size(DType dtype);
[[nodiscard]] std::string_view dtype_name(DType dtype);   // "F32", "BF16", ... as the format spells them
[[nodiscard]] DType parse_dtype(std::string_view name);   // throws FormatError on an unknown name

// One tensor inside a mapped file. `data` stays valid while the owning SafetensorsFile lives.
struct TensorView {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const std::byte* data;
  std::size_t nbytes;
  [[nodiscard]] int64_t numel() const;
};

class SafetensorsFile {
 public:
  // mmaps `path` read-only and validates the header. Throws FormatError naming the file, or std::system_error
  // when the file cannot be opened or mapped.
  [[nodiscard]] static std::shared_ptr<const SafetensorsFile> open(const std::string& path);
  // Parses an in-memory buffer (the caller keeps it alive). `label` names it in errors. Used by the fuzzer.
  [[nodiscard]] static std::shared_ptr<const SafetensorsFile> parse(const std::byte* bytes, std::size_t size,
                                                                    std::string label);

  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::vector<TensorView>& tensors() const { return tensors_; }   // in file (offset) order
  [[nodiscard]] const TensorView* find(std::string_view name) const;                 // nullptr when absent
  [[nodiscard]] const TensorView& at(std::string_view name) const;                   // throws FormatError when absent
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  // Validates the whole buffer and fills tensors_, index_ and metadata_; `bytes` must outlive this object.
  void read_header(const std::byte* bytes, std::size_t size);

  std::string path_;
  void* mapping_ = nullptr;
  std::size_t mapping_size_ = 0;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;   // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

// A tensor to write: the bytes are copied out during write_safetensors.
struct TensorData {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  const void* data;
  std::size_t nbytes;
};

// Writes a valid file: header padded with spaces to a multiple of 8 bytes, tensors in the given order,
// `__metadata__` when non-empty. Atomic: writes path + ".tmp" then renames. Throws std::invalid_argument for
// inconsistent input (byte size vs shape, duplicate or reserved name), std::system_error when writing fails.
void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// A checkpoint directory (or a single .safetensors file): `model.safetensors`, or the shards listed by
// `model.safetensors.index.json`. Shards are opened lazily, so reading only some tensors maps only
// the shards that hold them.
class Checkpoint {
 public:
  explicit Checkpoint(const std::string& path);   // throws FormatError (std::system_error for I/O)
  [[nodiscard]] std::vector<std::string> tensor_names() const;   // sorted
  [[nodiscard]] bool contains(std::string_view name) const;
  [[nodiscard]] const TensorView& tensor(std::string_view name) const;   // throws FormatError naming the tensor
  // The file holding `name`, opened on first use (keep it alive to keep the view valid).
  // Not thread-safe: the first use of a shard mutates the cache.
  [[nodiscard]] std::shared_ptr<const SafetensorsFile> file_of(std::string_view name) const;

 private:
  std::string root_;
  std::map<std::string, std::string, std::less<>> shard_of_;   // tensor -> shard file path
  mutable std::map<std::string, std::shared_ptr<const SafetensorsFile>> open_;
};

}  // namespace sg::tensor
