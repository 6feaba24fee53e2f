// Reading an enclave job object (the "job" of an enclave config: split/job.h, federated/job.h): strict about
// unknown fields, the kind and field types, with every error naming the config file and the field.
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <stdexcept>
#include <string>

namespace sg::tee {

class JobReader {
 public:
  // Parses `json_text`; throws unless it is an object of kind `kind` with only `known` fields.
  JobReader(const std::string& json_text, const std::string& source, const std::string& kind,
            const std::set<std::string>& known)
      : source_(source), j_(nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false)) {
    if (!j_.is_object()) throw std::invalid_argument(source + ": the job is not a JSON object");
    for (const auto& item : j_.items())
      if (item.key() != "kind" && !known.count(item.key()))
        throw std::invalid_argument(source + ": unknown job field '" + item.key() + "'");
    if (j_.value("kind", std::string()) != kind)
      throw std::invalid_argument(source + ": job field 'kind' must be \"" + kind + "\"");
  }

  // Sets `out` from `field` when present; a value of the wrong type is an error.
  template <class T>
  void read(const char* field, T& out) const {
    if (!j_.contains(field)) return;
    try {
      out = j_.at(field).get<T>();
    } catch (const nlohmann::json::exception&) {
      fail(field, "has the wrong type");
    }
  }
  bool has(const char* field) const { return j_.contains(field); }
  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    throw std::invalid_argument(source_ + ": job field '" + field + "' " + problem);
  }

 private:
  std::string source_;
  nlohmann::json j_;
};

}  // namespace sg::tee
