// The torch-free safetensors layer: writer/reader round trip, validation of malformed files (one-line errors
// naming file and tensor), sharded checkpoints.
#include "tensor/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <system_error>

#include "support/temp_dir.h"

namespace sg::tensor {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using sg::test_support::TempDir;
using sg::test_support::write_bytes;

std::string length_prefix(std::uint64_t length) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(length >> (8 * i));
  return bytes;
}

// A file with `header` as its JSON header followed by `data_size` zero bytes.
std::string file_bytes(const std::string& header, std::size_t data_size) {
  return length_prefix(header.size()) + header + std::string(data_size, '\0');
}

// Opens `bytes` written to a file and returns the FormatError message ("" when the file was accepted).
std::string open_error(const TempDir& dir, const std::string& bytes) {
  const std::string path = dir / "bad.safetensors";
  write_bytes(path, bytes);
  try {
    (void)SafetensorsFile::open(path);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

TEST(SafetensorsWriter, RoundTripPreservesEveryDtypeShapeBytesAndMetadata) {
  TempDir dir;
  const std::vector<DType> dtypes = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                                     DType::I32, DType::I16, DType::I8,  DType::U8,   DType::BOOL};
  std::vector<std::string> payloads;
  std::vector<TensorData> tensors;
  for (DType dtype : dtypes) {
    std::string& bytes = payloads.emplace_back(2 * 3 * dtype_size(dtype), '\0');
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(dtype == DType::BOOL ? i % 2 : i * 7);
  }
  for (std::size_t i = 0; i < dtypes.size(); ++i)
    tensors.push_back({"t_" + std::string(dtype_name(dtypes[i])), dtypes[i], {2, 3}, payloads[i].data(),
                       payloads[i].size()});
  const std::string path = dir / "all.safetensors";
  write_safetensors(path, tensors, {{"format", "pt"}});

  const auto file = SafetensorsFile::open(path);
  ASSERT_EQ(file->tensors().size(), dtypes.size());
  for (std::size_t i = 0; i < dtypes.size(); ++i) {
    const TensorView& view = file->at(tensors[i].name);
    EXPECT_EQ(view.dtype, dtypes[i]);
    EXPECT_EQ(view.shape, (std::vector<int64_t>{2, 3}));
    EXPECT_EQ(view.numel(), 6);
    ASSERT_EQ(view.nbytes, payloads[i].size());
    EXPECT_EQ(std::memcmp(view.data, payloads[i].data(), view.nbytes), 0) << view.name;
  }
  EXPECT_EQ(file->metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
}

TEST(SafetensorsWriter, TensorsListedInFileOrderAndScalarsAndEmptyTensorsKept) {
  TempDir dir;
  const float scalar = 1.5f;
  const std::string path = dir / "f.safetensors";
  write_safetensors(path, {{"z_scalar", DType::F32, {}, &scalar, 4}, {"a_empty", DType::F32, {0, 3}, nullptr, 0}});
  const auto file = SafetensorsFile::open(path);
  ASSERT_EQ(file->tensors().size(), 2u);
  EXPECT_EQ(file->tensors()[0].name, "z_scalar");
  EXPECT_EQ(file->tensors()[0].numel(), 1);
  EXPECT_EQ(*reinterpret_cast<const float*>(file->tensors()[0].data), 1.5f);
  EXPECT_EQ(file->tensors()[1].numel(), 0);
  EXPECT_EQ(file->find("missing"), nullptr);
}

TEST(SafetensorsWriter, HeaderPaddedWithSpacesToMultipleOf8AndNoTempFileLeft) {
  TempDir dir;
  const std::uint8_t byte = 1;
  const std::string path = dir / "p.safetensors";
  write_safetensors(path, {{"x", DType::U8, {1}, &byte, 1}});
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::uint64_t header_size = 0;
  std::memcpy(&header_size, bytes.data(), 8);
  EXPECT_EQ(header_size % 8, 0u);
  EXPECT_EQ(bytes.size(), 8 + header_size + 1);
  const std::string header = bytes.substr(8, header_size);
  EXPECT_EQ(header.front(), '{');
  EXPECT_EQ(header.find_first_not_of(' ', header.rfind('}') + 1), std::string::npos);   // only spaces pad it
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(SafetensorsWriter, SizeMismatchAndDuplicateNamesRejected) {
  TempDir dir;
  const float values[2] = {1, 2};
  EXPECT_THROW(write_safetensors(dir / "a", {{"x", DType::F32, {3}, values, 8}}), std::invalid_argument);
  EXPECT_THROW(write_safetensors(dir / "b", {{"x", DType::F32, {2}, values, 8}, {"x", DType::F32, {2}, values, 8}}),
               std::invalid_argument);
  EXPECT_THROW(write_safetensors(dir / "c", {{"__metadata__", DType::F32, {2}, values, 8}}), std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(dir / "a"));
}

TEST(SafetensorsParse, BufferParsedZeroCopyAndLabelNamedInErrors) {
  const std::string bytes = file_bytes(R"({"x":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", 2);
  const auto* data = reinterpret_cast<const std::byte*>(bytes.data());
  const auto file = SafetensorsFile::parse(data, bytes.size(), "buffer");
  EXPECT_EQ(file->at("x").data, data + bytes.size() - 2);
  try {
    (void)file->at("y");
    FAIL() << "absent tensor accepted";
  } catch (const FormatError& e) {
    EXPECT_STREQ(e.what(), "buffer: tensor 'y': not found");
  }
}

TEST(SafetensorsOpen, EmptyHeaderObjectWithNoDataAccepted) {
  TempDir dir;
  EXPECT_EQ(open_error(dir, file_bytes("{}      ", 0)), "");
}

TEST(SafetensorsOpen, FileShorterThan8BytesRejected) {
  TempDir dir;
  const std::string file = dir / "bad.safetensors";
  EXPECT_EQ(open_error(dir, "abc"), file + ": file is 3 bytes, shorter than the 8-byte header length");
  EXPECT_EQ(open_error(dir, ""), file + ": file is 0 bytes, shorter than the 8-byte header length");
}

TEST(SafetensorsOpen, HeaderLengthBeyondFileRejected) {
  TempDir dir;
  EXPECT_EQ(open_error(dir, length_prefix(100) + "{}"),
            dir / "bad.safetensors" + ": header length 100 exceeds the 2 bytes after the length field");
}

TEST(SafetensorsOpen, HeaderLengthAbove100MBRejected) {
  TempDir dir;
  EXPECT_EQ(open_error(dir, length_prefix(100'000'001) + "{}"),
            dir / "bad.safetensors" + ": header length 100000001 exceeds the limit of 100000000 bytes");
}

TEST(SafetensorsOpen, MissingFileAndDirectoryRejected) {
  TempDir dir;
  EXPECT_THROW((void)SafetensorsFile::open(dir / "absent"), std::system_error);
  EXPECT_THROW((void)SafetensorsFile::open(dir.path()), FormatError);
}

// One malformed header per case; each must be rejected with exactly this one-line message after "<file>: ".
struct Malformed {
  const char* test_name;
  std::string header;
  std::size_t data_size;
  std::string message;   // a prefix where the JSON library's wording follows
};

// Keeps the CTest names readable (gtest would otherwise print the struct's bytes).
void PrintTo(const Malformed& m, std::ostream* os) { *os << m.test_name; }

class MalformedFile : public ::testing::TestWithParam<Malformed> {};

TEST_P(MalformedFile, RejectedWithOneLineMessageNamingFileAndTensor) {
  TempDir dir;
  const std::string error = open_error(dir, file_bytes(GetParam().header, GetParam().data_size));
  EXPECT_THAT(error, StartsWith(dir / "bad.safetensors" + ": " + GetParam().message));
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

const std::string kA = R"("a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]})";

INSTANTIATE_TEST_SUITE_P(
    SafetensorsValidation, MalformedFile,
    ::testing::Values(
        Malformed{"HeaderNotJsonRejected", R"({"a":)", 0, "header is not valid JSON: "},
        Malformed{"HeaderNotObjectRejected", "[1]", 0, "header is not a JSON object (it must start with '{')"},
        Malformed{"HeaderWithLeadingSpaceRejected", " {}", 0, "header is not a JSON object"},
        Malformed{"EntryNotObjectRejected", R"({"a":1})", 0, "tensor 'a': entry is not a JSON object"},
        Malformed{"MissingDtypeRejected", R"({"a":{"shape":[1],"data_offsets":[0,4]}})", 4,
                  "tensor 'a': missing 'dtype'"},
        Malformed{"MissingShapeRejected", R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4,
                  "tensor 'a': missing 'shape'"},
        Malformed{"MissingDataOffsetsRejected", R"({"a":{"dtype":"F32","shape":[1]}})", 4,
                  "tensor 'a': missing 'data_offsets'"},
        Malformed{"DtypeNotStringRejected", R"({"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}})", 4,
                  "tensor 'a': 'dtype' is not a string"},
        Malformed{"UnknownDtypeRejected", R"({"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}})", 1,
                  "tensor 'a': unknown dtype \"F8_E4M3\""},
        Malformed{"ShapeNotArrayRejected", R"({"a":{"dtype":"F32","shape":"1","data_offsets":[0,4]}})", 4,
                  "tensor 'a': 'shape' is not an array"},
        Malformed{"FractionalDimensionRejected", R"({"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}})", 4,
                  "tensor 'a': 'shape' holds a non-integer number"},
        Malformed{"NegativeDimensionRejected", R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4,
                  "tensor 'a': negative dimension -1 in 'shape'"},
        Malformed{"HugeDimensionRejected",
                  R"({"a":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,1]}})", 1,
                  "tensor 'a': dimension 18446744073709551615 is too large"},
        Malformed{"NumelOverflowRejected",
                  R"({"a":{"dtype":"U8","shape":[4294967296,4294967296,4],"data_offsets":[0,1]}})", 1,
                  "tensor 'a': shape [4294967296, 4294967296, 4] has too many elements"},
        Malformed{"OffsetsNotAPairRejected", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", 4,
                  "tensor 'a': 'data_offsets' is not two non-negative integers"},
        Malformed{"NegativeOffsetRejected", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}})", 4,
                  "tensor 'a': 'data_offsets' is not two non-negative integers"},
        Malformed{"OffsetsBeginAfterEndRejected", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4,
                  "tensor 'a': data_offsets begin 4 > end 0"},
        Malformed{"OffsetsBeyondDataSectionRejected", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})",
                  4, "tensor 'a': data ends at 8, beyond the 4-byte data section"},
        Malformed{"ByteSizeMismatchRejected", R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4,
                  "tensor 'a': data is 4 bytes but F32 [2] needs 8"},
        Malformed{"OverlappingOffsetsRejected",
                  "{" + kA + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})", 6,
                  "tensor 'b': data at 2 overlaps tensor 'a' ending at 4"},
        Malformed{"HoleBetweenTensorsRejected",
                  "{" + kA + R"(,"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})", 12,
                  "tensor 'b': hole of 4 bytes before its data at 8 (the data section must be covered contiguously)"},
        Malformed{"HoleBeforeFirstTensorRejected", R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8,
                  "tensor 'a': hole of 4 bytes before its data at 4"},
        Malformed{"TrailingBytesRejected", "{" + kA + "}", 6, "2 trailing bytes after the last tensor's data"},
        Malformed{"MetadataNotObjectRejected", "{" + kA + R"(,"__metadata__":["x"]})", 4,
                  "'__metadata__' is not a JSON object"},
        Malformed{"MetadataValueNotStringRejected", "{" + kA + R"(,"__metadata__":{"k":1}})", 4,
                  "'__metadata__' value of 'k' is not a string"},
        Malformed{"ControlCharactersInNameKeptOnOneLine",
                  R"({"a\nb":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}})", 8,
                  "tensor 'a b': data is 8 bytes but F32 [1] needs 4"}),
    [](const ::testing::TestParamInfo<Malformed>& info) { return std::string(info.param.test_name); });

// A checkpoint directory with two shards: a,b in shard 1 and c in shard 2.
class ShardedCheckpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    write_safetensors(dir_ / "model-00001-of-00002.safetensors",
                      {{"a", DType::F32, {2}, values_, 8}, {"b", DType::F32, {1}, values_ + 2, 4}});
    write_safetensors(dir_ / "model-00002-of-00002.safetensors", {{"c", DType::F32, {1}, values_ + 3, 4}});
    write_index(R"({"metadata":{"total_size":16},"weight_map":{"a":"model-00001-of-00002.safetensors",)"
                R"("b":"model-00001-of-00002.safetensors","c":"model-00002-of-00002.safetensors"}})");
  }
  void write_index(const std::string& json) { write_bytes(dir_ / "model.safetensors.index.json", json); }
  std::string error_of(const std::function<void()>& action) {
    try {
      action();
    } catch (const FormatError& e) {
      return e.what();
    }
    return "";
  }

  TempDir dir_;
  const float values_[4] = {1, 2, 3, 4};
};

TEST_F(ShardedCheckpoint, IndexListsTensorsOfAllShards) {
  const Checkpoint checkpoint(dir_.path());
  EXPECT_EQ(checkpoint.tensor_names(), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_TRUE(checkpoint.contains("c"));
  EXPECT_FALSE(checkpoint.contains("d"));
  EXPECT_EQ(*reinterpret_cast<const float*>(checkpoint.tensor("c").data), 4.0f);
  EXPECT_EQ(checkpoint.file_of("a"), checkpoint.file_of("b"));
}

TEST_F(ShardedCheckpoint, ShardsOpenLazilyOnFirstUse) {
  const Checkpoint checkpoint(dir_.path());
  // Corrupt shard 2 after construction: reading shard 1 must not touch it, reading `c` must open it now.
  write_bytes(dir_ / "model-00002-of-00002.safetensors", "junk");
  EXPECT_EQ(checkpoint.tensor("b").shape, std::vector<int64_t>{1});
  EXPECT_THAT(error_of([&] { (void)checkpoint.tensor("c"); }),
              StartsWith(dir_ / "model-00002-of-00002.safetensors" + ": file is 4 bytes"));
}

TEST_F(ShardedCheckpoint, MissingTensorRejectedNamingCheckpointAndTensor) {
  const Checkpoint checkpoint(dir_.path());
  EXPECT_EQ(error_of([&] { (void)checkpoint.tensor("d"); }),
            dir_.path() + ": tensor 'd': not in the checkpoint");
}

TEST_F(ShardedCheckpoint, TensorIndexedButAbsentFromShardRejectedNamingShard) {
  write_index(R"({"weight_map":{"a":"model-00001-of-00002.safetensors","d":"model-00001-of-00002.safetensors"}})");
  const Checkpoint checkpoint(dir_.path());
  EXPECT_EQ(error_of([&] { (void)checkpoint.tensor("d"); }),
            dir_ / "model-00001-of-00002.safetensors" + ": tensor 'd': not found");
}

TEST_F(ShardedCheckpoint, IndexNamingMissingShardRejectedAtConstruction) {
  write_index(R"({"weight_map":{"a":"model-00003-of-00002.safetensors"}})");
  EXPECT_THAT(error_of([&] { Checkpoint checkpoint(dir_.path()); }),
              StartsWith(dir_ / "model.safetensors.index.json" + ": tensor 'a': shard '"));
}

TEST_F(ShardedCheckpoint, IndexShardPathOutsideDirectoryRejected) {
  write_index(R"({"weight_map":{"a":"../model-00001-of-00002.safetensors"}})");
  EXPECT_THAT(error_of([&] { Checkpoint checkpoint(dir_.path()); }),
              HasSubstr("is not a file name inside the checkpoint directory"));
}

TEST_F(ShardedCheckpoint, IndexWithoutWeightMapRejected) {
  write_index(R"({"metadata":{}})");
  EXPECT_EQ(error_of([&] { Checkpoint checkpoint(dir_.path()); }),
            dir_ / "model.safetensors.index.json" + ": 'weight_map' is missing or not an object");
}

TEST_F(ShardedCheckpoint, SingleModelFileWinsOverIndex) {
  write_safetensors(dir_ / "model.safetensors", {{"only", DType::F32, {1}, values_, 4}});
  EXPECT_EQ(Checkpoint(dir_.path()).tensor_names(), std::vector<std::string>{"only"});
}

TEST(Checkpoint, SingleSafetensorsFilePathAccepted) {
  TempDir dir;
  const std::int64_t value = 7;
  write_safetensors(dir / "weights.safetensors", {{"w", DType::I64, {1}, &value, 8}});
  const Checkpoint checkpoint(dir / "weights.safetensors");
  EXPECT_EQ(*reinterpret_cast<const std::int64_t*>(checkpoint.tensor("w").data), 7);
}

TEST(Checkpoint, DirectoryWithoutWeightsRejected) {
  TempDir dir;
  try {
    Checkpoint checkpoint(dir.path());
    FAIL() << "empty directory accepted";
  } catch (const FormatError& e) {
    EXPECT_THAT(e.what(), StartsWith(dir.path() + ": not a .safetensors file or a directory with"));
  }
}

}  // namespace
}  // namespace sg::tensor
