// The real evidence under tests/attest/vectors (see its README for the origin), and the times the tests pin.
#pragma once

#include <fstream>
#include <iterator>
#include <string>

#include "attest/openssl_objects.h"

namespace sg::attest::test {

inline std::string vector_path(const std::string& name) {
  return std::string(SG_SOURCE_DIR) + "/tests/attest/vectors/" + name;
}

inline Bytes read_vector(const std::string& name) {
  std::ifstream in(vector_path(name), std::ios::binary);
  if (!in) throw std::runtime_error("missing test vector " + vector_path(name));
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline std::time_t utc(const char* text) { return parse_utc_time(text, "test time").value(); }

// Inside every window of both Intel collaterals (TCB info, QE identity, CRLs, certificates).
inline std::time_t intel_inside() { return utc("2025-06-25T00:00:00Z"); }
inline std::time_t sixty_days_later() { return intel_inside() + 60 * 24 * 3600; }

}  // namespace sg::attest::test
