#include "model/tokenizer/tokenizer_config.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/tokenizer/json_node.h"
#include "model/tokenizer/tokenizer.h"

namespace sg::model {
namespace {

std::optional<std::string> token_name(const JsonNode& root, const std::string& key) {
  const auto node = root.find(key);
  if (!node) return std::nullopt;
  return node->value().is_object() ? node->string_at("content") : node->as_string();
}

std::optional<bool> flag(const JsonNode& root, const std::string& key) {
  const auto node = root.find(key);
  if (!node) return std::nullopt;
  return node->as_bool();
}

}  // namespace

TokenizerConfig read_tokenizer_config(const std::string& path) {
  if (!std::filesystem::exists(path)) return {};
  const std::string name = std::filesystem::path(path).filename().string();
  std::ifstream in(path);
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw TokenizerError(path + ": not valid JSON: " + e.what());
  }
  const JsonNode root(json, name, "");
  if (!json.is_object()) root.fail("is not a JSON object");
  return {token_name(root, "bos_token"), token_name(root, "eos_token"), token_name(root, "pad_token"),
          token_name(root, "unk_token"), flag(root, "add_bos_token"), flag(root, "add_eos_token")};
}

}  // namespace sg::model
