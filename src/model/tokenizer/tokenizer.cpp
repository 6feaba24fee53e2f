// Tokenizer::load and the file entry points: read the file, pick the format, attach tokenizer_config.json.
#include "model/tokenizer/tokenizer.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/tokenizer/json_tokenizer.h"
#include "model/tokenizer/sentencepiece_tokenizer.h"
#include "model/tokenizer/tokenizer_config.h"

namespace sg::model {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizerError(path.string() + ": cannot open");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

std::unique_ptr<Tokenizer> Tokenizer::load(const std::string& dir) {
  const fs::path root(dir);
  const TokenizerConfig config = read_tokenizer_config((root / "tokenizer_config.json").string());
  if (fs::exists(root / "tokenizer.json")) {
    return parse_json_tokenizer(read_file(root / "tokenizer.json"), "tokenizer.json", config);
  }
  if (fs::exists(root / "tokenizer.model")) {
    return parse_sentencepiece_tokenizer(read_file(root / "tokenizer.model"), "tokenizer.model", config);
  }
  throw TokenizerError(dir + ": neither tokenizer.json nor tokenizer.model found");
}

std::unique_ptr<Tokenizer> Tokenizer::from_json_file(const std::string& path) {
  return parse_json_tokenizer(read_file(path), fs::path(path).filename().string(), {});
}

std::unique_ptr<Tokenizer> Tokenizer::from_sentencepiece_file(const std::string& path) {
  return parse_sentencepiece_tokenizer(read_file(path), fs::path(path).filename().string(), {});
}

}  // namespace sg::model
