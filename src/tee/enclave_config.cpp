#include "tee/enclave_config.h"

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>

namespace sg::tee {

Result<EnclaveConfig> EnclaveConfig::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::config, path + ": cannot open enclave config");
  EnclaveConfig config;
  config.path = path;
  config.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  const char* home = std::getenv("HOME");
  config.sim_platform_key = std::string(home ? home : ".") + "/.config/sliceguard/sim_platform.key";

  const auto j = nlohmann::json::parse(config.bytes.begin(), config.bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return fail(Errc::config, path + ": not a JSON object");
  const std::pair<const char*, std::string*> fields[] = {{"sim_platform_key", &config.sim_platform_key},
                                                         {"gramine_attestation_dir", &config.gramine_attestation_dir},
                                                         {"tsm_report_root", &config.tsm_report_root}};
  for (const auto& item : j.items()) {
    if (item.key() == "job") {
      if (!item.value().is_object()) return fail(Errc::config, path + ": field 'job' must be an object");
      config.job = item.value().dump();
      continue;
    }
    std::string* target = nullptr;
    for (const auto& [name, field] : fields) {
      if (item.key() == name) target = field;
    }
    if (!target) return fail(Errc::config, path + ": unknown field '" + item.key() + "'");
    if (!item.value().is_string()) return fail(Errc::config, path + ": field '" + item.key() + "' must be a string");
    *target = item.value().get<std::string>();
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
