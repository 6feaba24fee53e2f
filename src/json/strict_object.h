// Reading one JSON object of a file we are handed (a model config, an enclave job, a policy, a slice plan, an
// enclave config) strictly: every error names the source and the field, and says what was expected.
//
//   strict::JsonObject<ConfigError> r(j, "config.json");
//   r.only({"kind", "cut_layer"});                 // "plan.json: unknown field 'x' (expected kind, cut_layer)"
//   auto n = r.required<int>("cut_layer");          // "plan.json: field 'cut_layer': is required"
//   auto eps = r.optional<double>("eps", 1e-6);     // "...: field 'eps': expected a number, got \"x\""
//
// Null is a wrong type, unless the reader is told that null means "absent" (Hugging Face configs write null for
// "default"; our own files never do). Integers must be non-negative: no field read this way has a meaning below
// zero; unsigned 64-bit values (seeds) are read whole.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace sg::strict {

// Parses `text` as one JSON object: Error "<source>: not valid JSON: ..." or "<source>: not a JSON object".
template <class Error = std::invalid_argument>
nlohmann::json parse_object(std::string_view text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(source + ": not valid JSON: " + e.what());
  }
  if (!j.is_object()) throw Error(source + ": not a JSON object");
  return j;
}

template <class Error = std::invalid_argument>
class JsonObject {
 public:
  enum class Null { wrong_type, absent };

  // `j` must outlive the reader; anything but an object throws Error "<source>: not a JSON object".
  JsonObject(const nlohmann::json& j, std::string source, Null null = Null::wrong_type)
      : j_(j), source_(std::move(source)), null_(null) {
    if (!j_.is_object()) throw Error(source_ + ": not a JSON object");
  }

  const std::string& source() const { return source_; }

  // Refuses any field outside `known`.
  void only(std::initializer_list<std::string_view> known) const { only(std::vector<std::string_view>(known)); }
  void only(const std::vector<std::string_view>& known) const {
    for (const auto& item : j_.items()) {
      bool listed = false;
      for (auto k : known) listed = listed || item.key() == k;
      if (listed) continue;
      std::string expected;
      for (auto k : known) expected += (expected.empty() ? "" : ", ") + std::string(k);
      throw Error(source_ + ": unknown field '" + item.key() + "' (expected " + expected + ")");
    }
  }

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw Error(source_ + ": field '" + field + "': " + problem);
  }

  bool has(const std::string& field) const {
    return j_.contains(field) && !(null_ == Null::absent && j_[field].is_null());
  }
  const nlohmann::json& raw(const std::string& field) const { return j_.at(field); }

  template <class T>
  T required(const std::string& field) const {
    if (!has(field)) fail(field, "is required");
    return as<T>(field);
  }

  template <class T>
  T optional(const std::string& field, T fallback) const {
    return has(field) ? as<T>(field) : fallback;
  }

  // Sets `out` when the field is there; leaves it otherwise.
  template <class T>
  void read(const std::string& field, T& out) const {
    if (has(field)) out = as<T>(field);
  }

 private:
  template <class T>
  T as(const std::string& field) const {
    const nlohmann::json& v = j_[field];
    if constexpr (std::is_same_v<T, bool>) {
      if (!v.is_boolean()) fail(field, "must be true or false, got " + v.dump());
    } else if constexpr (std::is_integral_v<T>) {
      if (!v.is_number_integer()) fail(field, "expected an integer, got " + v.dump());
      if (!v.is_number_unsigned() && v.get<int64_t>() < 0)
        fail(field, "expected a non-negative integer, got " + v.dump());
      const uint64_t value = v.is_number_unsigned() ? v.get<uint64_t>() : uint64_t(v.get<int64_t>());
      if (value > uint64_t(std::numeric_limits<T>::max())) fail(field, "is too large, got " + v.dump());
    } else if constexpr (std::is_floating_point_v<T>) {
      if (!v.is_number()) fail(field, "expected a number, got " + v.dump());
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!v.is_string()) fail(field, "expected a string, got " + v.dump());
    } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
      if (!v.is_array()) fail(field, "expected a list of strings, got " + v.dump());
      for (std::size_t i = 0; i < v.size(); ++i)
        if (!v[i].is_string()) fail(field + "[" + std::to_string(i) + "]", "expected a string, got " + v[i].dump());
    } else {
      try {
        return v.get<T>();
      } catch (const nlohmann::json::exception&) {
        fail(field, "has the wrong type: " + v.dump());
      }
    }
    return v.get<T>();
  }

  const nlohmann::json& j_;
  std::string source_;
  Null null_;
};

}  // namespace sg::strict
