// `sliceguard attest collateral-path --evidence F --collateral DIR`: where F's collateral goes in the cache.
// `sliceguard attest verify --evidence F --collateral DIR --policy P [--at TIME] [--report-data HEX] [--json]`:
// verifies an SGX or TDX quote or an SEV-SNP report (raw, as the hardware wrote it, or an enclave's evidence
// JSON) with the collateral cached in DIR, and applies the enclave policy P the way a client does
// (tee::verify_hardware_evidence). Prints the claims and the verdict; a refusal is one line naming the check,
// and exit 1.
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "attest/collateral_cache.h"
#include "attest/openssl_objects.h"
#include "cli/commands.h"
#include "tee/attestation_tsm.h"
#include "tee/hardware_evidence.h"

namespace sg::cli {
namespace {

using crypto::Bytes;

struct AttestOptions {
  std::string evidence, collateral, policy, at, report_data;
  bool json = false;
};

Bytes read_evidence_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot read the evidence file");
  Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() > tee::kMaxEvidenceBytes) throw std::runtime_error(path + ": larger than any evidence (256 KiB)");
  return bytes;
}

tee::Backend backend_for(attest::Platform platform) {
  return platform == attest::Platform::sgx ? tee::Backend::gramine : tee::Backend::tsm;
}

// The file as Evidence: an enclave's evidence JSON as it is, raw hardware evidence with its own fields.
tee::Evidence evidence_from(const Bytes& bytes, const std::string& path) {
  if (!bytes.empty() && bytes.front() == '{') {
    auto e = tee::parse_evidence(bytes);
    if (!e) throw std::runtime_error(path + ": " + e.error().message);
    return std::move(*e);
  }
  auto fields = tee::read_quote_fields(bytes);
  if (!fields) throw std::runtime_error(path + ": " + fields.error().message);
  tee::Evidence e;
  e.backend = backend_for(fields->platform);
  e.quote = bytes;
  e.measurement = fields->measurement;
  e.report_data = fields->report_data;
  if (e.backend == tee::Backend::tsm) e.provider = fields->platform == attest::Platform::tdx ? "tdx_guest" : "sev_guest";
  return e;
}

// The platform a client expects from this evidence: its backend's (and for tsm its provider's), not the one
// its quote claims to be.
attest::Platform expected_platform(const tee::Evidence& e) {
  if (e.backend == tee::Backend::gramine) return attest::Platform::sgx;
  if (e.backend == tee::Backend::tsm) {
    auto platform = tee::tsm_platform(e.provider);
    if (!platform) throw std::runtime_error(platform.error().message);
    return *platform;
  }
  throw std::runtime_error("sim evidence carries no hardware quote; sim is NOT a security boundary");
}

// The verdict: empty when accepted, otherwise the refusal's one line.
std::string verdict(const tee::Evidence& e, const tee::Policy& policy, const std::string& expected_report_data) {
  if (!policy.allowed_backends.count(e.backend)) {
    return "policy: backend '" + tee::backend_name(e.backend) + "' is not in allowed_backends of " + policy.source;
  }
  if (!expected_report_data.empty() && crypto::to_hex(e.report_data) != expected_report_data) {
    return "report_data: the evidence carries " + crypto::to_hex(e.report_data) + ", not the expected " +
           expected_report_data + " (it does not bind this verifier's nonce and the enclave's key)";
  }
  auto verified = tee::verify_hardware_evidence(e, expected_platform(e), policy);
  return verified ? "" : verified.error().message;
}

void run_verify(const AttestOptions& o) {
  const Bytes bytes = read_evidence_file(o.evidence);
  const tee::Evidence e = evidence_from(bytes, o.evidence);
  auto policy = tee::Policy::load(o.policy);
  if (!policy) throw std::runtime_error(policy.error().message);
  if (!o.collateral.empty()) policy->collateral_dir = o.collateral;
  if (policy->collateral_dir.empty()) {
    throw CLI::ValidationError("--collateral", "required: " + o.policy + " names no collateral_dir");
  }
  policy->verify_at = std::time(nullptr);
  if (!o.at.empty()) {
    auto at = attest::parse_utc_time(o.at, "--at");
    if (!at) throw CLI::ValidationError("--at", at.error().message);
    policy->verify_at = *at;
  }

  auto claims = attest::verify_with_collateral_dir(e.quote, policy->collateral_dir, policy->verify_at);
  const std::string refusal =
      claims ? verdict(e, *policy, o.report_data) : claims.error().check + ": " + claims.error().message;
  if (o.json) {
    nlohmann::json out{{"verdict", refusal.empty() ? "accepted" : "refused"},
                       {"at", attest::format_utc_time(policy->verify_at)}};
    if (!refusal.empty()) out["refusal"] = refusal;
    if (claims) out["claims"] = nlohmann::json::parse(attest::claims_json(*claims));
    std::printf("%s\n", out.dump(2).c_str());
  } else if (claims) {
    std::printf("%s\n", attest::claims_json(*claims).c_str());
  }
  if (!refusal.empty()) throw std::runtime_error("evidence refused: " + refusal);
  if (!o.json) std::printf("verdict: accepted at %s\n", attest::format_utc_time(policy->verify_at).c_str());
}

}  // namespace

void add_attest_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("attest", "Hardware attestation evidence (SGX, TDX, SEV-SNP)");
  cmd->require_subcommand(1);
  auto* verify = cmd->add_subcommand("verify", "Verify an SGX/TDX quote or SEV-SNP report against cached collateral "
                                               "and an enclave policy; exit 1 naming the check that refused it");
  auto o = std::make_shared<AttestOptions>();
  verify->add_option("--evidence", o->evidence, "Quote or report file (raw, or an enclave's evidence JSON)")->required();
  verify->add_option("--collateral", o->collateral,
                     "Collateral cache: DIR/intel/<fmspc>.json, DIR/amd/<chip_id>.der (default: the policy's "
                     "collateral_dir)");
  verify->add_option("--policy", o->policy, "Enclave policy file (allowed_measurements, hardware section, ...)")
      ->required();
  verify->add_option("--at", o->at, "Verification time, UTC (2025-06-25T00:00:00Z); default now");
  verify->add_option("--report-data", o->report_data, "Expected report data (128 hex characters)");
  verify->add_flag("--json", o->json, "Print claims and verdict as one JSON object");
  verify->callback([o] { run_verify(*o); });

  auto* where = cmd->add_subcommand("collateral-path", "Print where in a collateral cache this evidence's collateral "
                                                       "belongs (Intel: by FMSPC; AMD: by CHIP_ID)");
  auto w = std::make_shared<AttestOptions>();
  where->add_option("--evidence", w->evidence, "Quote or report file")->required();
  where->add_option("--collateral", w->collateral, "Collateral cache directory")->required();
  where->callback([w] {
    const tee::Evidence e = evidence_from(read_evidence_file(w->evidence), w->evidence);
    auto path = attest::collateral_path(e.quote, w->collateral);
    if (!path) throw std::runtime_error(w->evidence + ": " + path.error().message);
    std::printf("%s\n", path->c_str());
  });
}

}  // namespace sg::cli
