#include "tee/policy.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "json/strict_object.h"

namespace sg::tee {
namespace {

using nlohmann::json;

// Policy fields over the strict reader (json/strict_object.h); its errors become Errc::config results.
class PolicyReader {
 public:
  PolicyReader(const json& j, const std::string& source) : r_(j, source) {}

  crypto::Unexpected<Error> error(const std::string& field, const std::string& what) const {
    return fail(Errc::config, r_.source() + ": field '" + field + "': " + what);
  }

  Status only(std::initializer_list<std::string_view> known) const {
    try {
      r_.only(known);
      return {};
    } catch (const std::invalid_argument& e) {
      return fail(Errc::config, e.what());
    }
  }

  Result<bool> flag(const char* key) const {
    return guarded([&] { return r_.optional<bool>(key, false); });
  }

  Result<std::string> text(const char* key) const {
    return guarded([&] { return r_.optional<std::string>(key, ""); });
  }

  // A list of strings; `required` lists must be present and non-empty.
  Result<std::vector<std::string>> strings(const char* key, bool required) const {
    if (!r_.has(key)) {
      if (required) return error(key, "is required");
      return std::vector<std::string>{};
    }
    auto out = guarded([&] { return r_.required<std::vector<std::string>>(key); });
    if (out && required && out->empty()) return error(key, "must not be empty (nothing could pass)");
    return out;
  }

  // A list of hex strings of one of `sizes` bytes each.
  Result<std::vector<Bytes>> hex_list(const char* key, bool required, std::set<std::size_t> sizes) const {
    auto texts = strings(key, required);
    if (!texts) return crypto::unexpected(texts.error());
    std::vector<Bytes> out;
    for (std::size_t i = 0; i < texts->size(); ++i) {
      auto bytes = crypto::from_hex((*texts)[i]);
      if (!bytes || !sizes.count(bytes->size())) {
        std::string expected;
        for (std::size_t s : sizes) expected += (expected.empty() ? "" : " or ") + std::to_string(2 * s);
        return error(std::string(key) + "[" + std::to_string(i) + "]", "is not a hex string of " + expected + " characters");
      }
      out.push_back(std::move(*bytes));
    }
    return out;
  }

 private:
  template <class F>
  auto guarded(F read) const -> Result<decltype(read())> {
    try {
      return read();
    } catch (const std::invalid_argument& e) {
      return fail(Errc::config, e.what());
    }
  }

  strict::JsonObject<> r_;
};

}  // namespace

Result<Policy> Policy::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return fail(Errc::config, path + ": cannot open policy file");
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

Result<Policy> Policy::parse(std::string_view json_text, const std::string& source) {
  const json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return fail(Errc::config, source + ": not a JSON object");
  PolicyReader r(j, source);
  if (j.contains("allow_outdated_tcb")) {
    return r.error("allow_outdated_tcb", "was replaced by hardware.allowed_tcb_statuses (for example "
                                         "[\"UpToDate\", \"SWHardeningNeeded\"])");
  }
  if (auto known = r.only({"allowed_backends", "allowed_measurements", "allowed_signers", "allow_sim", "allow_debug",
                           "sim_platform_keys", "allowed_code", "allowed_configs", "collateral_dir", "hardware"});
      !known)
    return crypto::unexpected(known.error());
  Policy p;
  p.source = source;

  auto backends = r.strings("allowed_backends", true);
  if (!backends) return crypto::unexpected(backends.error());
  for (std::size_t i = 0; i < backends->size(); ++i) {
    auto b = parse_backend((*backends)[i]);
    if (!b) return r.error("allowed_backends[" + std::to_string(i) + "]", "'" + (*backends)[i] + "' is not sim, gramine or tsm");
    p.allowed_backends.insert(*b);
  }
  auto code = r.hex_list("allowed_code", false, {32});
  if (!code) return crypto::unexpected(code.error());
  p.allowed_code = std::move(*code);
  auto measurements = r.hex_list("allowed_measurements", p.allowed_code.empty(), {32, 48});
  if (!measurements) return crypto::unexpected(measurements.error());
  p.allowed_measurements = std::move(*measurements);
  auto configs = r.hex_list("allowed_configs", false, {32});
  if (!configs) return crypto::unexpected(configs.error());
  p.allowed_configs = std::move(*configs);
  auto signers = r.hex_list("allowed_signers", false, {32});
  if (!signers) return crypto::unexpected(signers.error());
  p.allowed_signers = std::move(*signers);
  auto sim_keys = r.hex_list("sim_platform_keys", false, {32});
  if (!sim_keys) return crypto::unexpected(sim_keys.error());
  for (const Bytes& k : *sim_keys) {
    crypto::VerifyKey key{};
    std::copy(k.begin(), k.end(), key.begin());
    p.sim_platform_keys.push_back(key);
  }
  for (auto [key, out] : {std::pair{"allow_sim", &p.allow_sim}, std::pair{"allow_debug", &p.allow_debug}}) {
    auto value = r.flag(key);
    if (!value) return crypto::unexpected(value.error());
    *out = *value;
  }
  if (p.allow_sim && p.sim_platform_keys.empty()) {
    return r.error("sim_platform_keys", "is required when allow_sim is true (which platform key to trust)");
  }
  auto collateral_dir = r.text("collateral_dir");
  if (!collateral_dir) return crypto::unexpected(collateral_dir.error());
  p.collateral_dir = std::move(*collateral_dir);
  if (j.contains("hardware")) {
    auto hardware = attest::HardwarePolicy::parse(j.at("hardware"), source + ": hardware");
    if (!hardware) return fail(Errc::config, hardware.error().message);
    p.hardware = std::move(*hardware);
  }
  p.hardware.measurements = p.allowed_measurements;
  p.hardware.mr_signer = p.allowed_signers;
  p.hardware.allow_debug = p.allow_debug;
  return p;
}

}  // namespace sg::tee
