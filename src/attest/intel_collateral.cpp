#include "attest/intel_collateral.h"


#include <nlohmann/json.hpp>

#include "attest/openssl_objects.h"

namespace sg::attest {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxCollateralBytes = 1 << 20;

// Reads `doc` with nlohmann's checked accessors; a missing field or wrong type throws json::exception, which
// parse_checked turns into one refusal naming the source.
template <class F>
auto parse_checked(std::string_view text, const std::string& source, F&& read) -> Result<decltype(read(json()))> {
  try {
    return read(json::parse(text));
  } catch (const json::exception& e) {
    return refuse("collateral_format", source + ": " + e.what());
  }
}

[[noreturn]] void field_error(const std::string& what) { throw json::other_error::create(501, what, nullptr); }

Bytes hex_field(const json& j, const char* name, std::size_t size) {
  const std::string text = j.at(name).get<std::string>();
  Bytes out = crypto::from_hex(text).value_or(Bytes{});
  if (out.empty() && !text.empty()) field_error(std::string("field '") + name + "' is not hex");
  if (size != 0 && out.size() != size) {
    field_error(std::string("field '") + name + "' has " + std::to_string(out.size()) + " bytes, expected " +
                std::to_string(size));
  }
  return out;
}

std::time_t time_field(const json& j, const char* name) {
  auto t = parse_utc_time(j.at(name).get<std::string>(), std::string("field '") + name + "'");
  if (!t) field_error(t.error().message);
  return *t;
}

TcbStatus status_field(const json& j) {
  const std::string name = j.at("tcbStatus").get<std::string>();
  auto status = parse_tcb_status(name);
  if (!status) field_error("tcbStatus '" + name + "' is not a known TCB status");
  return *status;
}

std::vector<std::string> advisories(const json& level) {
  return level.contains("advisoryIDs") ? level.at("advisoryIDs").get<std::vector<std::string>>()
                                       : std::vector<std::string>{};
}

std::array<uint8_t, 16> components(const json& list, const char* name) {
  if (!list.is_array() || list.size() != 16) field_error(std::string(name) + " must list 16 components");
  std::array<uint8_t, 16> out{};
  for (std::size_t i = 0; i < 16; ++i) out[i] = list[i].at("svn").get<uint8_t>();
  return out;
}

std::vector<IsvTcbLevel> isv_levels(const json& levels) {
  std::vector<IsvTcbLevel> out;
  for (const json& level : levels) {
    out.push_back({level.at("tcb").at("isvsvn").get<uint16_t>(), status_field(level), advisories(level)});
  }
  return out;
}

}  // namespace

Result<IntelCollateral> IntelCollateral::load(const std::string& path) {
  auto bytes = read_file_at_most(path, kMaxCollateralBytes);
  if (!bytes) return crypto::unexpected(bytes.error());
  return parse(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), path);
}

Result<IntelCollateral> IntelCollateral::parse(std::string_view json_text, const std::string& source) {
  return parse_checked(json_text, source, [&](const json& j) {
    IntelCollateral c;
    c.source = source;
    c.pck_crl_issuer_chain = j.at("pck_crl_issuer_chain").get<std::string>();
    c.root_ca_crl = hex_field(j, "root_ca_crl", 0);
    c.pck_crl = hex_field(j, "pck_crl", 0);
    c.tcb_info_issuer_chain = j.at("tcb_info_issuer_chain").get<std::string>();
    c.tcb_info = j.at("tcb_info").get<std::string>();
    c.tcb_info_signature = hex_field(j, "tcb_info_signature", 64);
    c.qe_identity_issuer_chain = j.at("qe_identity_issuer_chain").get<std::string>();
    c.qe_identity = j.at("qe_identity").get<std::string>();
    c.qe_identity_signature = hex_field(j, "qe_identity_signature", 64);
    return c;
  });
}

Result<TcbInfo> TcbInfo::parse(std::string_view json_text, const std::string& source) {
  return parse_checked(json_text, source + " tcb_info", [&](const json& j) {
    if (j.at("version").get<int>() != 3) field_error("TCB info version must be 3");
    TcbInfo t;
    t.id = j.at("id").get<std::string>();
    t.issue_date = time_field(j, "issueDate");
    t.next_update = time_field(j, "nextUpdate");
    t.fmspc = hex_field(j, "fmspc", 6);
    t.pce_id = hex_field(j, "pceId", 2);
    const bool tdx = t.id == "TDX";
    for (const json& level : j.at("tcbLevels")) {
      PlatformTcbLevel l;
      const json& tcb = level.at("tcb");
      l.sgx_components = components(tcb.at("sgxtcbcomponents"), "sgxtcbcomponents");
      l.pce_svn = tcb.at("pcesvn").get<uint16_t>();
      if (tdx) l.tdx_components = components(tcb.at("tdxtcbcomponents"), "tdxtcbcomponents");
      l.status = status_field(level);
      l.advisories = advisories(level);
      t.levels.push_back(std::move(l));
    }
    if (tdx) {
      const json& module = j.at("tdxModule");
      t.tdx_module_mr_signer = hex_field(module, "mrsigner", 48);
      t.tdx_module_attributes = hex_field(module, "attributes", 8);
      t.tdx_module_attributes_mask = hex_field(module, "attributesMask", 8);
      for (const json& m : j.value("tdxModuleIdentities", json::array())) {
        t.tdx_module_identities.push_back({m.at("id").get<std::string>(), hex_field(m, "mrsigner", 48),
                                           hex_field(m, "attributes", 8), hex_field(m, "attributesMask", 8),
                                           isv_levels(m.at("tcbLevels"))});
      }
    }
    return t;
  });
}

Result<QeIdentity> QeIdentity::parse(std::string_view json_text, const std::string& source) {
  return parse_checked(json_text, source + " qe_identity", [&](const json& j) {
    if (j.at("version").get<int>() != 2) field_error("QE identity version must be 2");
    QeIdentity q;
    q.id = j.at("id").get<std::string>();
    q.issue_date = time_field(j, "issueDate");
    q.next_update = time_field(j, "nextUpdate");
    auto u32_field = [&](const char* name) {
      const Bytes b = hex_field(j, name, 4);
      return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;   // report byte order
    };
    q.misc_select = u32_field("miscselect");
    q.misc_select_mask = u32_field("miscselectMask");
    q.attributes = hex_field(j, "attributes", 16);
    q.attributes_mask = hex_field(j, "attributesMask", 16);
    q.mr_signer = hex_field(j, "mrsigner", 32);
    q.isv_prod_id = j.at("isvprodid").get<uint16_t>();
    q.levels = isv_levels(j.at("tcbLevels"));
    return q;
  });
}

}  // namespace sg::attest
