// safetensors <-> LibTorch: every dtype round-trips, aligned tensors are zero-copy views that keep their file
// mapped, misaligned ones are copied.
#include "tensor/torch_bridge.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "support/temp_dir.h"

namespace sg::tensor {
namespace {

using sg::test_support::TempDir;

// A tensor of `type` with distinct, exactly representable values.
at::Tensor sample(at::ScalarType type, at::IntArrayRef shape) {
  const at::Tensor values = torch::arange(c10::multiply_integers(shape), torch::kInt64).reshape(shape);
  return type == at::kBool ? (values % 2 == 0) : values.to(type);
}

TEST(TorchBridge, RoundTripPreservesEveryDtype) {
  TempDir dir;
  const std::vector<at::ScalarType> types = {at::kDouble, at::kFloat, at::kHalf, at::kBFloat16, at::kLong,
                                             at::kInt,    at::kShort, at::kChar, at::kByte,     at::kBool};
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (at::ScalarType type : types) tensors.emplace_back(at::toString(type), sample(type, {3, 5}));
  save_tensors(dir / "all.safetensors", tensors, {{"format", "pt"}});

  const Checkpoint checkpoint(dir / "all.safetensors");
  EXPECT_EQ(checkpoint.file_of(tensors[0].first)->metadata().at("format"), "pt");
  for (const auto& [name, expected] : tensors) {
    const at::Tensor loaded = load_tensor(checkpoint, name);
    EXPECT_EQ(loaded.scalar_type(), expected.scalar_type()) << name;
    EXPECT_EQ(loaded.sizes(), expected.sizes()) << name;
    EXPECT_TRUE(torch::equal(loaded, expected)) << name;
  }
}

TEST(TorchBridge, AlignedTensorIsZeroCopyViewOfMapping) {
  TempDir dir;
  save_tensors(dir / "f.safetensors", {{"w", sample(at::kFloat, {4, 4})}});
  const auto file = SafetensorsFile::open(dir / "f.safetensors");
  const TensorView& view = file->at("w");
  const at::Tensor tensor = to_torch(file, view);
  EXPECT_EQ(tensor.data_ptr(), static_cast<const void*>(view.data));
}

TEST(TorchBridge, ZeroCopyTensorKeepsFileMappedAfterCheckpointIsGone) {
  TempDir dir;
  const at::Tensor expected = sample(at::kFloat, {8});
  save_tensors(dir / "f.safetensors", {{"w", expected}});
  at::Tensor loaded;
  std::weak_ptr<const SafetensorsFile> file;
  {
    const Checkpoint checkpoint(dir / "f.safetensors");
    file = checkpoint.file_of("w");
    loaded = load_tensor(checkpoint, "w");
  }
  EXPECT_FALSE(file.expired());   // the tensor's deleter holds it
  EXPECT_TRUE(torch::equal(loaded, expected));
  loaded = at::Tensor();
  EXPECT_TRUE(file.expired());
}

TEST(TorchBridge, MisalignedTensorIsCopied) {
  TempDir dir;
  // 3 bytes of U8 first put the F32 data at an odd offset.
  const at::Tensor expected = sample(at::kFloat, {2});
  save_tensors(dir / "f.safetensors", {{"a", sample(at::kByte, {3})}, {"b", expected}});
  const auto file = SafetensorsFile::open(dir / "f.safetensors");
  const at::Tensor loaded = to_torch(file, file->at("b"));
  EXPECT_NE(loaded.data_ptr(), static_cast<const void*>(file->at("b").data));
  EXPECT_TRUE(torch::equal(loaded, expected));
}

TEST(TorchBridge, NonContiguousScalarAndEmptyTensorsSaved) {
  TempDir dir;
  const at::Tensor transposed = sample(at::kFloat, {2, 3}).t();
  const at::Tensor scalar = torch::tensor(2.5, torch::kFloat64).reshape({});
  const at::Tensor empty = torch::zeros({0, 4}, torch::kBFloat16);
  save_tensors(dir / "f.safetensors", {{"t", transposed}, {"s", scalar}, {"e", empty}});
  const Checkpoint checkpoint(dir / "f.safetensors");
  EXPECT_TRUE(torch::equal(load_tensor(checkpoint, "t"), transposed));
  EXPECT_TRUE(torch::equal(load_tensor(checkpoint, "s"), scalar));
  EXPECT_EQ(load_tensor(checkpoint, "s").dim(), 0);
  EXPECT_EQ(load_tensor(checkpoint, "e").sizes(), empty.sizes());
}

TEST(TorchBridge, TensorRequiringGradSavedByValue) {
  TempDir dir;
  const at::Tensor weight = sample(at::kFloat, {3}).requires_grad_();
  save_tensors(dir / "f.safetensors", {{"w", weight}});
  EXPECT_TRUE(torch::equal(load_tensor(Checkpoint(dir / "f.safetensors"), "w"), weight.detach()));
}

TEST(TorchBridge, UnsupportedDtypeRejected) {
  EXPECT_THROW((void)dtype_of(torch::zeros({2}, torch::kComplexFloat)), std::invalid_argument);
  TempDir dir;
  EXPECT_THROW(save_tensors(dir / "f.safetensors", {{"c", torch::zeros({2}, torch::kComplexFloat)}}),
               std::invalid_argument);
  EXPECT_FALSE(std::filesystem::exists(dir / "f.safetensors"));
}

TEST(TorchBridge, MissingTensorRejectedNamingIt) {
  TempDir dir;
  save_tensors(dir / "f.safetensors", {{"w", sample(at::kFloat, {1})}});
  try {
    (void)load_tensor(Checkpoint(dir / "f.safetensors"), "nope");
    FAIL() << "absent tensor loaded";
  } catch (const FormatError& e) {
    EXPECT_EQ(std::string(e.what()), dir / "f.safetensors" + ": tensor 'nope': not in the checkpoint");
  }
}

}  // namespace
}  // namespace sg::tensor
