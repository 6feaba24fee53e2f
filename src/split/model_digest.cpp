#include "split/model_digest.h"

#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "crypto/hash.h"
#include "model/transformer.h"

namespace sg::split {
namespace {

void update_u64(crypto::Sha256& sha, uint64_t value) {
  uint8_t le[8];
  for (int i = 0; i < 8; ++i) le[i] = uint8_t(value >> (8 * i));
  sha.update(crypto::ByteView(le, sizeof le));
}

void update_text(crypto::Sha256& sha, const std::string& text) {
  update_u64(sha, text.size());
  sha.update(crypto::ByteView(text));
}

}  // namespace

std::string slice_digest(const model::Transformer& slice, const std::string& model_dir) {
  const auto config_path = (std::filesystem::path(model_dir) / "config.json").string();
  std::ifstream in(config_path, std::ios::binary);
  if (!in) throw std::runtime_error(config_path + ": cannot read");
  const std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

  crypto::Sha256 sha;
  sha.update(crypto::ByteView("sliceguard-slice-digest-v1"));
  update_text(sha, config);
  auto tensors = slice.named_parameters();
  std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [name, tensor] : tensors) {
    const auto t = tensor.detach().to(torch::kFloat32).contiguous();
    update_text(sha, name);
    update_u64(sha, uint64_t(t.dim()));
    for (const int64_t size : t.sizes()) update_u64(sha, uint64_t(size));
    sha.update(crypto::ByteView(static_cast<const uint8_t*>(t.data_ptr()), t.nbytes()));
  }
  const auto digest = sha.finish();
  return crypto::to_hex(crypto::ByteView(digest.data(), digest.size()));
}

std::string slice_digest(const train::SliceTrainerOptions& options) {
  std::string digest;
  auto loading = options;
  loading.on_loaded = [&](const model::Transformer& slice) { digest = slice_digest(slice, options.model_dir); };
  train::SliceTrainer trainer(loading);
  return digest;
}

}  // namespace sg::split
