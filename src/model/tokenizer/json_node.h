// A JSON value together with the file and field path it came from, so every parse error names both:
// "tokenizer.json: pre_tokenizer.pretokenizers[1].type 'Whitespace' is not supported".
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace sg::model {

class JsonNode {
 public:
  JsonNode(const nlohmann::json& value, std::string file, std::string path);

  const nlohmann::json& value() const { return *value_; }
  const std::string& file() const { return file_; }
  // "file: path" (or "file" at the root), for messages.
  std::string where() const;

  JsonNode at(const std::string& key) const;              // required member of an object
  std::optional<JsonNode> find(const std::string& key) const;  // absent or null -> nullopt
  JsonNode at(size_t index) const;
  size_t size() const;  // elements of an array (throws unless an array)

  std::string as_string() const;
  bool as_bool() const;
  int64_t as_int() const;

  std::string string_at(const std::string& key) const { return at(key).as_string(); }
  bool bool_or(const std::string& key, bool fallback) const;
  // The "type" member of a component object.
  std::string type() const { return string_at("type"); }

  [[noreturn]] void fail(const std::string& message) const;
  [[noreturn]] void unsupported_type() const;  // "<path>.type 'X' is not supported"

 private:
  JsonNode child(const nlohmann::json& value, const std::string& suffix) const;

  const nlohmann::json* value_;
  std::string file_;
  std::string path_;
};

}  // namespace sg::model
