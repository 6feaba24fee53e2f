// The safetensors format (https://github.com/huggingface/safetensors#format):
//   [u64 little-endian N][N bytes of JSON header][data section]
// The header maps tensor names to {dtype, shape, data_offsets=[begin, end)} relative to the data section, plus an
// optional "__metadata__" string->string map. The tensors must cover the data section exactly: no overlaps, no
// holes, no trailing bytes. Everything read from a file is untrusted; every violation becomes a FormatError.
#include "tensor/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <system_error>
#include <tuple>

#include <nlohmann/json.hpp>

namespace sg::tensor {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors data is little-endian and we hand out the mapped bytes as they are");

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr std::size_t kLengthFieldBytes = 8;
// The reference implementation's bound: a header this large is an attack, not a model.
constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  std::size_t size;
};
constexpr std::array<DTypeInfo, 10> kDTypes = {{{DType::F64, "F64", 8},
                                                 {DType::F32, "F32", 4},
                                                 {DType::F16, "F16", 2},
                                                 {DType::BF16, "BF16", 2},
                                                 {DType::I64, "I64", 8},
                                                 {DType::I32, "I32", 4},
                                                 {DType::I16, "I16", 2},
                                                 {DType::I8, "I8", 1},
                                                 {DType::U8, "U8", 1},
                                                 {DType::BOOL, "BOOL", 1}}};

const DTypeInfo& info(DType dtype) {
  const auto it = std::find_if(kDTypes.begin(), kDTypes.end(), [&](const DTypeInfo& d) { return d.dtype == dtype; });
  if (it == kDTypes.end()) throw std::invalid_argument("invalid DType value");
  return *it;
}

std::optional<DType> find_dtype(std::string_view name) {
  for (const DTypeInfo& d : kDTypes)
    if (d.name == name) return d.dtype;
  return std::nullopt;
}

// Messages stay on one line even when names or JSON errors carry control characters taken from the file.
std::string one_line(std::string text) {
  for (char& c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return text;
}

std::string tensor_message(const std::string& file, std::string_view tensor, const std::string& problem) {
  return one_line(file + ": tensor '" + std::string(tensor) + "': " + problem);
}

[[noreturn]] void fail(const std::string& file, const std::string& problem) {
  throw FormatError(one_line(file + ": " + problem));
}

[[noreturn]] void fail(const std::string& file, std::string_view tensor, const std::string& problem) {
  throw FormatError(tensor_message(file, tensor, problem));
}

[[noreturn]] void fail_errno(const std::string& file, const char* action) {
  throw std::system_error(errno, std::generic_category(), one_line(file + ": " + action));
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// Bytes needed by `shape` of `dtype`; nullopt when a dimension is negative or the count overflows.
std::optional<std::uint64_t> byte_size(DType dtype, const std::vector<int64_t>& shape) {
  std::uint64_t bytes = dtype_size(dtype);
  for (int64_t dim : shape)
    if (dim < 0 || __builtin_mul_overflow(bytes, static_cast<std::uint64_t>(dim), &bytes)) return std::nullopt;
  // TensorView::numel() is int64 and nbytes a size_t: both must hold the result.
  if (bytes > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  return bytes;
}

// A header entry with its offsets, kept until the coverage check has run.
struct Entry {
  TensorView view;
  std::uint64_t begin, end;
};

const json& field(const std::string& file, const std::string& name, const json& entry, const char* key) {
  const auto it = entry.find(key);
  if (it == entry.end()) fail(file, name, std::string("missing '") + key + "'");
  return *it;
}

std::vector<int64_t> parse_shape(const std::string& file, const std::string& name, const json& shape) {
  if (!shape.is_array()) fail(file, name, "'shape' is not an array");
  std::vector<int64_t> dims;
  for (const json& dim : shape) {
    // Non-negative JSON integers parse as unsigned, negative ones as signed, anything else is not an integer.
    if (dim.is_number_unsigned()) {
      if (dim.get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX))
        fail(file, name, "dimension " + dim.dump() + " is too large");
    } else if (dim.is_number_integer()) {
      fail(file, name, "negative dimension " + dim.dump() + " in 'shape'");
    } else {
      fail(file, name, "'shape' holds a non-integer " + std::string(dim.type_name()));
    }
    dims.push_back(dim.get<int64_t>());
  }
  return dims;
}

Entry parse_entry(const std::string& file, const std::string& name, const json& entry, const std::byte* data,
                  std::uint64_t data_size) {
  if (!entry.is_object()) fail(file, name, "entry is not a JSON object");
  const json& dtype_json = field(file, name, entry, "dtype");
  const json& shape_json = field(file, name, entry, "shape");
  const json& offsets = field(file, name, entry, "data_offsets");

  if (!dtype_json.is_string()) fail(file, name, "'dtype' is not a string");
  const std::optional<DType> dtype = find_dtype(dtype_json.get_ref<const std::string&>());
  if (!dtype) fail(file, name, "unknown dtype " + dtype_json.dump());
  std::vector<int64_t> shape = parse_shape(file, name, shape_json);
  const std::optional<std::uint64_t> nbytes = byte_size(*dtype, shape);
  if (!nbytes) fail(file, name, "shape " + shape_text(shape) + " has too many elements");

  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    fail(file, name, "'data_offsets' is not two non-negative integers");
  const auto begin = offsets[0].get<std::uint64_t>();
  const auto end = offsets[1].get<std::uint64_t>();
  if (begin > end) fail(file, name, "data_offsets begin " + std::to_string(begin) + " > end " + std::to_string(end));
  if (end > data_size)
    fail(file, name, "data ends at " + std::to_string(end) + ", beyond the " + std::to_string(data_size) +
                         "-byte data section");
  if (end - begin != *nbytes)
    fail(file, name, "data is " + std::to_string(end - begin) + " bytes but " + std::string(dtype_name(*dtype)) +
                         " " + shape_text(shape) + " needs " + std::to_string(*nbytes));
  return {{name, *dtype, std::move(shape), data + begin, static_cast<std::size_t>(*nbytes)}, begin, end};
}

std::map<std::string, std::string> parse_metadata(const std::string& file, const json& metadata) {
  if (!metadata.is_object()) fail(file, "'__metadata__' is not a JSON object");
  std::map<std::string, std::string> result;
  for (const auto& [key, value] : metadata.items()) {
    if (!value.is_string()) fail(file, "'__metadata__' value of '" + key + "' is not a string");
    result.emplace(key, value.get<std::string>());
  }
  return result;
}

// Sorts `entries` by offset and checks that they tile [0, data_size) exactly.
void check_coverage(const std::string& file, std::vector<Entry>& entries, std::uint64_t data_size) {
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return std::tie(a.begin, a.end, a.view.name) < std::tie(b.begin, b.end, b.view.name);
  });
  std::uint64_t covered = 0;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.begin < covered)
      fail(file, e.view.name, "data at " + std::to_string(e.begin) + " overlaps tensor '" +
                                  entries[i - 1].view.name + "' ending at " + std::to_string(covered));
    if (e.begin > covered)
      fail(file, e.view.name, "hole of " + std::to_string(e.begin - covered) + " bytes before its data at " +
                                  std::to_string(e.begin) + " (the data section must be covered contiguously)");
    covered = e.end;
  }
  if (covered != data_size)
    fail(file, std::to_string(data_size - covered) + " trailing bytes after the last tensor's data");
}

std::uint64_t read_u64_le(const std::byte* bytes) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | std::to_integer<std::uint64_t>(bytes[i]);
  return value;
}

json read_json_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail_errno(path.string(), "cannot open");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return json::parse(text.str());
  } catch (const json::exception& e) {
    fail(path.string(), std::string("not valid JSON: ") + e.what());
  }
}

// Shard names in an index are file names inside the checkpoint directory, never paths out of it.
bool is_plain_file_name(const std::string& name) {
  const fs::path path(name);
  return !name.empty() && path.is_relative() &&
         std::none_of(path.begin(), path.end(), [](const fs::path& part) { return part == ".."; });
}

// tensor name -> shard path, from a Hugging Face `model.safetensors.index.json`.
std::map<std::string, std::string, std::less<>> read_index(const fs::path& index) {
  const std::string file = index.string();
  const json root = read_json_file(index);
  const auto weight_map = root.is_object() ? root.find("weight_map") : root.end();
  if (weight_map == root.end() || !weight_map->is_object()) fail(file, "'weight_map' is missing or not an object");
  std::map<std::string, std::string, std::less<>> shard_of;
  for (const auto& [name, shard] : weight_map->items()) {
    if (!shard.is_string() || !is_plain_file_name(shard.get<std::string>()))
      fail(file, name, "shard " + shard.dump() + " is not a file name inside the checkpoint directory");
    const fs::path shard_path = index.parent_path() / shard.get<std::string>();
    // Fail at construction rather than half-way through loading a model.
    if (!fs::is_regular_file(shard_path)) fail(file, name, "shard '" + shard_path.string() + "' does not exist");
    shard_of.emplace(name, shard_path.string());
  }
  return shard_of;
}

void write_all(int fd, const std::string& file, const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t written = ::write(fd, p, size);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) fail_errno(file, "cannot write");
    p += written;
    size -= static_cast<std::size_t>(written);
  }
}

}  // namespace

std::size_t dtype_size(DType dtype) { return info(dtype).size; }
std::string_view dtype_name(DType dtype) { return info(dtype).name; }

DType parse_dtype(std::string_view name) {
  if (const auto dtype = find_dtype(name)) return *dtype;
  throw FormatError(one_line("unknown dtype '" + std::string(name) + "'"));
}

int64_t TensorView::numel() const {
  int64_t n = 1;
  for (int64_t dim : shape) n *= dim;   // cannot overflow: validated on parse
  return n;
}

void SafetensorsFile::read_header(const std::byte* bytes, std::size_t size) {
  if (size < kLengthFieldBytes)
    fail(path_, "file is " + std::to_string(size) + " bytes, shorter than the 8-byte header length");
  const std::uint64_t header_size = read_u64_le(bytes);
  if (header_size > kMaxHeaderBytes)
    fail(path_, "header length " + std::to_string(header_size) + " exceeds the limit of " +
                    std::to_string(kMaxHeaderBytes) + " bytes");
  if (header_size > size - kLengthFieldBytes)
    fail(path_, "header length " + std::to_string(header_size) + " exceeds the " +
                    std::to_string(size - kLengthFieldBytes) + " bytes after the length field");

  const char* text = reinterpret_cast<const char*>(bytes + kLengthFieldBytes);
  // The format requires '{' first; this also makes every valid parse an object.
  if (header_size == 0 || text[0] != '{') fail(path_, "header is not a JSON object (it must start with '{')");
  json header;
  try {
    header = json::parse(text, text + header_size);
  } catch (const json::exception& e) {
    fail(path_, std::string("header is not valid JSON: ") + e.what());
  }

  const std::byte* data = bytes + kLengthFieldBytes + header_size;
  const std::uint64_t data_size = size - kLengthFieldBytes - header_size;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__")
      metadata_ = parse_metadata(path_, value);
    else
      entries.push_back(parse_entry(path_, name, value, data, data_size));
  }
  check_coverage(path_, entries, data_size);

  for (Entry& e : entries) {
    index_.emplace(e.view.name, tensors_.size());
    tensors_.push_back(std::move(e.view));
  }
}

std::shared_ptr<const SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_errno(path, "cannot open");
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int error = errno;
    ::close(fd);
    errno = error;
    fail_errno(path, "cannot stat");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, "not a regular file");
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  if (size > 0) {   // mmap rejects empty mappings; read_header() reports the empty file
    void* mapping = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    const int error = errno;
    ::close(fd);   // the mapping keeps the file referenced
    errno = error;
    if (mapping == MAP_FAILED) fail_errno(path, "cannot mmap");
    file->mapping_ = mapping;
    file->mapping_size_ = size;
  } else {
    ::close(fd);
  }
  file->read_header(static_cast<const std::byte*>(file->mapping_), size);
  return file;
}

std::shared_ptr<const SafetensorsFile> SafetensorsFile::parse(const std::byte* bytes, std::size_t size,
                                                              std::string label) {
  std::shared_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = std::move(label);
  file->read_header(bytes, size);
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_) ::munmap(mapping_, mapping_size_);
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorView& SafetensorsFile::at(std::string_view name) const {
  if (const TensorView* view = find(name)) return *view;
  fail(path_, name, "not found");
}

void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const TensorData& t : tensors) {
    if (t.name == "__metadata__" || header.contains(t.name))
      throw std::invalid_argument(tensor_message(path, t.name, "duplicate or reserved name"));
    if (byte_size(t.dtype, t.shape) != std::optional<std::uint64_t>(t.nbytes))
      throw std::invalid_argument(tensor_message(path, t.name, std::to_string(t.nbytes) + " bytes do not match " +
                                                               std::string(dtype_name(t.dtype)) + " " +
                                                               shape_text(t.shape)));
    header[t.name] = {{"dtype", std::string(dtype_name(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.nbytes}}};
    offset += t.nbytes;
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const json::exception& e) {   // a name or metadata string that is not UTF-8
    throw std::invalid_argument(one_line(path + ": cannot encode header: " + e.what()));
  }
  // Spaces are JSON whitespace; padding to 8 keeps the data section 8-byte aligned in a mapping.
  text.resize((text.size() + 7) / 8 * 8, ' ');
  std::array<unsigned char, kLengthFieldBytes> length{};
  for (std::size_t i = 0; i < length.size(); ++i) length[i] = static_cast<unsigned char>(text.size() >> (8 * i));

  // Readers never see a half-written file: write a sibling, flush it to disk, rename over the target.
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno(tmp, "cannot create");
  try {
    write_all(fd, tmp, length.data(), length.size());
    write_all(fd, tmp, text.data(), text.size());
    for (const TensorData& t : tensors) write_all(fd, tmp, t.data, t.nbytes);
    if (::fsync(fd) != 0) fail_errno(tmp, "cannot fsync");
  } catch (...) {
    ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (::close(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(tmp.c_str());
    errno = error;
    fail_errno(path, "cannot write");
  }
}

Checkpoint::Checkpoint(const std::string& path) : root_(path) {
  const fs::path root(path);
  const fs::path single = fs::is_directory(root) ? root / "model.safetensors" : root;
  const fs::path index = root / "model.safetensors.index.json";
  // Same preference as transformers: the single file wins over an index next to it.
  if (fs::is_regular_file(single)) {
    auto file = SafetensorsFile::open(single.string());
    for (const TensorView& view : file->tensors()) shard_of_.emplace(view.name, file->path());
    open_.emplace(file->path(), std::move(file));
  } else if (fs::is_directory(root) && fs::is_regular_file(index)) {
    shard_of_ = read_index(index);
  } else {
    fail(path, "not a .safetensors file or a directory with model.safetensors or model.safetensors.index.json");
  }
}

std::vector<std::string> Checkpoint::tensor_names() const {
  std::vector<std::string> names;
  names.reserve(shard_of_.size());
  for (const auto& entry : shard_of_) names.push_back(entry.first);
  return names;
}

bool Checkpoint::contains(std::string_view name) const { return shard_of_.find(name) != shard_of_.end(); }

const TensorView& Checkpoint::tensor(std::string_view name) const { return file_of(name)->at(name); }

std::shared_ptr<const SafetensorsFile> Checkpoint::file_of(std::string_view name) const {
  const auto shard = shard_of_.find(name);
  if (shard == shard_of_.end()) fail(root_, name, "not in the checkpoint");
  std::shared_ptr<const SafetensorsFile>& file = open_[shard->second];
  if (!file) file = SafetensorsFile::open(shard->second);
  return file;
}

}  // namespace sg::tensor
