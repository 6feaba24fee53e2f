#include "tee/evidence.h"

#include <nlohmann/json.hpp>

#include <set>

namespace sg::tee {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "sliceguard-evidence";
constexpr int kVersion = 1;

crypto::Unexpected<Error> bad(const std::string& what) { return fail(Errc::evidence, "evidence: " + what); }

// A required hex field of `min`..`max` bytes.
Result<Bytes> hex_field(const json& j, const char* key, std::size_t min, std::size_t max) {
  auto it = j.find(key);
  if (it == j.end()) return bad(std::string("missing field '") + key + "'");
  if (!it->is_string()) return bad(std::string("field '") + key + "' is not a string");
  auto bytes = crypto::from_hex(it->get_ref<const std::string&>());
  if (!bytes) return bad(std::string("field '") + key + "' is not hex");
  if (bytes->size() < min || bytes->size() > max) {
    return bad(std::string("field '") + key + "' has " + std::to_string(bytes->size()) + " bytes, expected " +
               std::to_string(min) + (min == max ? "" : ".." + std::to_string(max)));
  }
  return std::move(*bytes);
}

}  // namespace

std::string backend_name(Backend backend) {
  switch (backend) {
    case Backend::sim: return "sim";
    case Backend::gramine: return "gramine";
    case Backend::tsm: return "tsm";
  }
  return "?";
}

std::optional<Backend> parse_backend(std::string_view name) {
  for (Backend b : {Backend::sim, Backend::gramine, Backend::tsm}) {
    if (name == backend_name(b)) return b;
  }
  return std::nullopt;
}

crypto::Digest64 report_data_for(const crypto::KxPublicKey& enclave_key, ByteView nonce) {
  return crypto::blake2b_512({ByteView("sliceguard-report-data-v1"), enclave_key, nonce});
}

Bytes serialize_evidence(const Evidence& e) {
  json j = {{"format", kFormat},
            {"version", kVersion},
            {"backend", backend_name(e.backend)},
            {"measurement", crypto::to_hex(e.measurement)},
            {"report_data", crypto::to_hex(e.report_data)}};
  if (e.backend == Backend::sim) j["signature"] = crypto::to_hex(e.signature);
  if (e.backend != Backend::sim) j["quote"] = crypto::to_hex(e.quote);
  if (e.backend == Backend::tsm) j["provider"] = e.provider;
  const std::string text = j.dump();
  return Bytes(text.begin(), text.end());
}

Result<Evidence> parse_evidence(ByteView bytes) {
  if (bytes.size > kMaxEvidenceBytes) return bad("larger than " + std::to_string(kMaxEvidenceBytes) + " bytes");
  const json j = json::parse(bytes.data, bytes.data + bytes.size, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return bad("not a JSON object");
  if (j.value("format", json()) != kFormat || j.value("version", json()) != kVersion) {
    return bad(std::string("not ") + kFormat + " version " + std::to_string(kVersion));
  }
  const json backend_field = j.value("backend", json());
  const auto backend = backend_field.is_string() ? parse_backend(backend_field.get<std::string>()) : std::nullopt;
  if (!backend) return bad("unknown or missing backend");

  std::set<std::string> allowed = {"format", "version", "backend", "measurement", "report_data"};
  Evidence e;
  e.backend = *backend;
  auto measurement = hex_field(j, "measurement", 32, 48);
  if (!measurement) return crypto::unexpected(measurement.error());
  e.measurement = std::move(*measurement);
  auto report_data = hex_field(j, "report_data", 64, 64);
  if (!report_data) return crypto::unexpected(report_data.error());
  std::copy(report_data->begin(), report_data->end(), e.report_data.begin());

  if (e.backend == Backend::sim) {
    allowed.insert("signature");
    auto signature = hex_field(j, "signature", 64, 64);
    if (!signature) return crypto::unexpected(signature.error());
    e.signature = std::move(*signature);
  } else {
    allowed.insert("quote");
    auto quote = hex_field(j, "quote", 1, kMaxEvidenceBytes / 2);
    if (!quote) return crypto::unexpected(quote.error());
    e.quote = std::move(*quote);
  }
  if (e.backend == Backend::tsm) {
    allowed.insert("provider");
    const json provider = j.value("provider", json());
    if (!provider.is_string() || provider.get_ref<const std::string&>().size() > 64) return bad("bad or missing 'provider'");
    e.provider = provider.get<std::string>();
  }
  for (const auto& item : j.items()) {
    if (!allowed.count(item.key())) return bad("unexpected field '" + item.key() + "'");
  }
  return e;
}

}  // namespace sg::tee
