#include "model/tokenizer/json_node.h"

#include "model/tokenizer/tokenizer.h"

namespace sg::model {

JsonNode::JsonNode(const nlohmann::json& value, std::string file, std::string path)
    : value_(&value), file_(std::move(file)), path_(std::move(path)) {}

std::string JsonNode::where() const { return path_.empty() ? file_ : file_ + ": " + path_; }

void JsonNode::fail(const std::string& message) const { throw TokenizerError(where() + " " + message); }

void JsonNode::unsupported_type() const {
  throw TokenizerError(file_ + ": " + (path_.empty() ? "" : path_ + ".") + "type '" + type() +
                       "' is not supported");
}

JsonNode JsonNode::child(const nlohmann::json& value, const std::string& suffix) const {
  return JsonNode(value, file_, path_.empty() ? suffix : path_ + (suffix[0] == '[' ? "" : ".") + suffix);
}

JsonNode JsonNode::at(const std::string& key) const {
  if (!value_->is_object()) fail("is not an object");
  const auto it = value_->find(key);
  if (it == value_->end()) throw TokenizerError(where() + (path_.empty() ? ": " : ".") + key + " is missing");
  return child(*it, key);
}

std::optional<JsonNode> JsonNode::find(const std::string& key) const {
  if (!value_->is_object()) fail("is not an object");
  const auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return child(*it, key);
}

JsonNode JsonNode::at(size_t index) const {
  if (!value_->is_array()) fail("is not an array");
  if (index >= value_->size()) fail("has no element " + std::to_string(index));
  return child((*value_)[index], "[" + std::to_string(index) + "]");
}

size_t JsonNode::size() const {
  if (!value_->is_array()) fail("is not an array");
  return value_->size();
}

std::string JsonNode::as_string() const {
  if (!value_->is_string()) fail("is not a string");
  return value_->get<std::string>();
}

bool JsonNode::as_bool() const {
  if (!value_->is_boolean()) fail("is not a boolean");
  return value_->get<bool>();
}

int64_t JsonNode::as_int() const {
  if (!value_->is_number_integer()) fail("is not an integer");
  return value_->get<int64_t>();
}

bool JsonNode::bool_or(const std::string& key, bool fallback) const {
  const auto node = find(key);
  return node ? node->as_bool() : fallback;
}

}  // namespace sg::model
