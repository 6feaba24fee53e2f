#include "tee/enclave_config.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string_view>

#include "json/strict_object.h"

namespace sg::tee {

Result<EnclaveConfig> EnclaveConfig::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::config, path + ": cannot open enclave config");
  EnclaveConfig config;
  config.path = path;
  config.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  const char* home = std::getenv("HOME");
  config.sim_platform_key = std::string(home ? home : ".") + "/.config/sliceguard/sim_platform.key";

  try {
    const auto j = strict::parse_object(std::string_view(reinterpret_cast<const char*>(config.bytes.data()),
                                                         config.bytes.size()),
                                        path);
    const strict::JsonObject r(j, path);
    r.only({"sim_platform_key", "gramine_attestation_dir", "tsm_report_root", "sev_guest_device", "key_broker", "job"});
    r.read("sim_platform_key", config.sim_platform_key);
    r.read("gramine_attestation_dir", config.gramine_attestation_dir);
    r.read("tsm_report_root", config.tsm_report_root);
    r.read("sev_guest_device", config.sev_guest_device);
    if (r.has("key_broker")) {
      std::string hex;
      r.read("key_broker", hex);
      auto key = crypto::from_hex_array<32>(hex);
      if (!key) r.fail("key_broker", "must be an Ed25519 public key (64 hex digits)");
      config.key_broker = *key;
    }
    if (r.has("job")) {
      if (!j["job"].is_object()) r.fail("job", "must be an object");
      config.job = j["job"].dump();
    }
  } catch (const std::invalid_argument& e) {
    return fail(Errc::config, e.what());
  }
  return config;
}

Status write_enclave_config(const std::string& path, const EnclaveConfigFields& fields) {
  nlohmann::json config = nlohmann::json::object();
  const std::pair<const char*, const std::string*> strings[] = {
      {"sim_platform_key", &fields.sim_platform_key},
      {"gramine_attestation_dir", &fields.gramine_attestation_dir},
      {"tsm_report_root", &fields.tsm_report_root}};
  for (const auto& [name, value] : strings)
    if (!value->empty()) config[name] = *value;
  if (!fields.job.empty()) {
    auto job = nlohmann::json::parse(fields.job, nullptr, /*allow_exceptions=*/false);
    if (!job.is_object()) return fail(Errc::config, path + ": the job to write is not a JSON object");
    config["job"] = std::move(job);
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << config.dump(2) << "\n";
  if (!out.flush()) return fail(Errc::config, path + ": cannot write the enclave config");
  return {};
}

}  // namespace sg::tee
