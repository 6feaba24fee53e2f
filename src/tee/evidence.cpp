#include "tee/evidence.h"

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string_view>
#include <vector>

#include "json/strict_object.h"

namespace sg::tee {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "sliceguard-evidence";
constexpr int kVersion = 2;   // 2: config_digest

using Reader = strict::JsonObject<>;

// A required hex field of `min`..`max` bytes.
Bytes hex_field(const Reader& r, const char* key, std::size_t min, std::size_t max) {
  const auto text = r.required<std::string>(key);
  auto bytes = crypto::from_hex(text);
  if (!bytes) r.fail(key, "is not hex");
  if (bytes->size() < min || bytes->size() > max)
    r.fail(key, "has " + std::to_string(bytes->size()) + " bytes, expected " + std::to_string(min) +
                    (min == max ? "" : ".." + std::to_string(max)));
  return std::move(*bytes);
}

// The fields of `bytes`, read strictly; throws std::invalid_argument naming the field.
Evidence read_evidence(ByteView bytes) {
  const auto j = strict::parse_object(std::string_view(reinterpret_cast<const char*>(bytes.data), bytes.size),
                                      "evidence");
  const Reader r(j, "evidence");
  if (j.value("format", json()) != kFormat || j.value("version", json()) != kVersion)
    r.fail("format", std::string("not ") + kFormat + " version " + std::to_string(kVersion));
  const json backend_field = j.value("backend", json());
  const auto backend = backend_field.is_string() ? parse_backend(backend_field.get<std::string>()) : std::nullopt;
  if (!backend) r.fail("backend", "unknown or missing backend");

  Evidence e;
  e.backend = *backend;
  const bool sim = e.backend == Backend::sim, tsm = e.backend == Backend::tsm;
  std::vector<std::string_view> fields{"format", "version", "backend", "measurement", "config_digest",
                                       "report_data", sim ? "signature" : "quote"};
  if (tsm) fields.push_back("provider");
  r.only(fields);
  e.measurement = hex_field(r, "measurement", 32, 48);
  const auto config_digest = hex_field(r, "config_digest", 32, 32);
  std::copy(config_digest.begin(), config_digest.end(), e.config_digest.begin());
  const auto report_data = hex_field(r, "report_data", 64, 64);
  std::copy(report_data.begin(), report_data.end(), e.report_data.begin());
  if (sim) e.signature = hex_field(r, "signature", 64, 64);
  else e.quote = hex_field(r, "quote", 1, kMaxEvidenceBytes / 2);
  if (tsm) {
    e.provider = r.required<std::string>("provider");
    if (e.provider.size() > 64) r.fail("provider", "is longer than 64 characters");
  }
  return e;
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

crypto::Digest32 config_digest_of(ByteView config) {
  crypto::Sha256 sha;
  sha.update(config);
  return sha.finish();
}

crypto::Digest64 report_data_for(const crypto::KxPublicKey& enclave_key, ByteView nonce,
                                 const crypto::Digest32& config_digest) {
  return crypto::blake2b_512({ByteView("sliceguard-report-data-v2"), enclave_key, nonce, config_digest});
}

Bytes serialize_evidence(const Evidence& e) {
  json j = {{"format", kFormat},
            {"version", kVersion},
            {"backend", backend_name(e.backend)},
            {"measurement", crypto::to_hex(e.measurement)},
            {"config_digest", crypto::to_hex(e.config_digest)},
            {"report_data", crypto::to_hex(e.report_data)}};
  if (e.backend == Backend::sim) j["signature"] = crypto::to_hex(e.signature);
  if (e.backend != Backend::sim) j["quote"] = crypto::to_hex(e.quote);
  if (e.backend == Backend::tsm) j["provider"] = e.provider;
  const std::string text = j.dump();
  return Bytes(text.begin(), text.end());
}

Result<Evidence> parse_evidence(ByteView bytes) {
  if (bytes.size > kMaxEvidenceBytes)
    return fail(Errc::evidence, "evidence: larger than " + std::to_string(kMaxEvidenceBytes) + " bytes");
  try {
    return read_evidence(bytes);
  } catch (const std::invalid_argument& e) {
    return fail(Errc::evidence, e.what());
  }
}

}  // namespace sg::tee
