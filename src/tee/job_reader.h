// Reading an enclave job object (the "job" of an enclave config: split/job.h, federated/job.h) with the strict
// reader every config of ours uses (json/strict_object.h): unknown fields, the kind and each field's type are
// checked, and every error names the config file and the field.
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "json/strict_object.h"

namespace sg::tee {

class JobReader {
 public:
  // Parses `json_text`; throws std::invalid_argument unless it is an object of kind `kind` with only `known` fields.
  JobReader(const std::string& json_text, const std::string& source, const std::string& kind,
            const std::set<std::string>& known)
      : j_(strict::parse_object(json_text, source + " (job)")), r_(j_, source + " (job)") {
    std::vector<std::string_view> fields{"kind"};
    fields.insert(fields.end(), known.begin(), known.end());
    r_.only(fields);
    if (!j_.contains("kind") || j_["kind"] != kind) r_.fail("kind", "must be \"" + kind + "\"");
  }

  // Sets `out` from `field` when present; a value of the wrong type is an error.
  template <class T>
  void read(const char* field, T& out) const {
    r_.read(field, out);
  }
  bool has(const char* field) const { return r_.has(field); }
  [[noreturn]] void fail(const std::string& field, const std::string& problem) const { r_.fail(field, problem); }

 private:
  nlohmann::json j_;
  strict::JsonObject<> r_;
};

}  // namespace sg::tee
