#include "attest/snp_verifier.h"

#include <openssl/asn1.h>
#include <openssl/objects.h>


#include "attest/certificate_chain.h"
#include "attest/ecdsa.h"

namespace sg::attest {
namespace {

constexpr std::size_t kMaxCertificateBytes = 64 * 1024;

// The VCEK's extension `oid` (AMD's 1.3.6.1.4.1.3704.1.*), its DER value; empty when absent.
ByteView extension(X509* cert, const char* oid) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
  const int at = X509_get_ext_by_OBJ(cert, obj, -1);
  ASN1_OBJECT_free(obj);
  if (at < 0) return {};
  const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(X509_get_ext(cert, at));
  return {data->data, std::size_t(data->length)};
}

// An SPL: a DER INTEGER of 0..255.
Result<uint8_t> spl(X509* vcek, const char* oid, const char* name) {
  const ByteView der = extension(vcek, oid);
  const unsigned char* p = der.data;
  std::unique_ptr<ASN1_INTEGER, OpenSslDeleter<ASN1_INTEGER_free>> value(d2i_ASN1_INTEGER(nullptr, &p, long(der.size)));
  const long v = value ? ASN1_INTEGER_get(value.get()) : -1;
  if (!value || p != der.data + der.size || v < 0 || v > 255) {
    return refuse("vcek_tcb", std::string("the VCEK's ") + name + " extension (" + oid + ") is absent or not 0..255");
  }
  return uint8_t(v);
}

Result<std::string> product_name(X509* vcek) {
  const ByteView der = extension(vcek, "1.3.6.1.4.1.3704.1.2");
  const unsigned char* p = der.data;
  std::unique_ptr<ASN1_IA5STRING, OpenSslDeleter<ASN1_IA5STRING_free>> name(d2i_ASN1_IA5STRING(nullptr, &p, long(der.size)));
  if (!name) return refuse("vcek_chain", "the VCEK has no productName extension (1.3.6.1.4.1.3704.1.2)");
  return std::string(reinterpret_cast<const char*>(name->data), std::size_t(name->length));
}

Result<SnpTcb> vcek_tcb(X509* vcek, bool turin) {
  SnpTcb t;
  struct Field { const char* oid; const char* name; uint8_t* out; };
  std::vector<Field> fields{{"1.3.6.1.4.1.3704.1.3.1", "blSPL", &t.bootloader},
                            {"1.3.6.1.4.1.3704.1.3.2", "teeSPL", &t.tee},
                            {"1.3.6.1.4.1.3704.1.3.3", "snpSPL", &t.snp},
                            {"1.3.6.1.4.1.3704.1.3.8", "ucodeSPL", &t.microcode}};
  if (turin) fields.push_back({"1.3.6.1.4.1.3704.1.3.9", "fmcSPL", &t.fmc});
  for (const Field& f : fields) {
    auto v = spl(vcek, f.oid, f.name);
    if (!v) return crypto::unexpected(v.error());
    *f.out = *v;
  }
  return t;
}

std::string describe(const SnpTcb& t) {
  return "bootloader " + std::to_string(t.bootloader) + ", tee " + std::to_string(t.tee) + ", snp " +
         std::to_string(t.snp) + ", microcode " + std::to_string(t.microcode) + ", fmc " + std::to_string(t.fmc);
}

std::time_t not_after(X509* cert) {
  std::tm tm{};
  ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm);
  return timegm(&tm);
}

}  // namespace

Result<SnpCollateral> load_snp_collateral(const std::string& vcek_path) {
  auto der = read_file_at_most(vcek_path, kMaxCertificateBytes);
  if (!der) return crypto::unexpected(der.error());
  auto cert = parse_der_certificate(*der, vcek_path);
  if (!cert) return crypto::unexpected(cert.error());
  return SnpCollateral{std::move(*cert)};
}

Result<Claims> verify_snp_report(ByteView bytes, const SnpCollateral& collateral, std::time_t at,
                                 std::optional<AmdRoots> roots) {
  auto parsed = parse_snp_report(bytes);
  if (!parsed) return crypto::unexpected(parsed.error());
  const SnpReport& r = *parsed;
  X509* vcek = collateral.vcek.get();
  auto product = product_name(vcek);
  if (!product) return crypto::unexpected(product.error());
  const auto line = parse_snp_product(*product);
  if (!line) return refuse("vcek_chain", "the VCEK's product '" + *product + "' is not Milan, Genoa or Turin");
  const AmdRoots anchors = roots.value_or(amd_roots(*line));
  if (auto st = verify_chain({"vcek_chain", vcek, {anchors.ask}, anchors.ark, {}, at}); !st) {
    return crypto::unexpected(st.error());
  }

  if (!ecdsa_verifies(X509_get0_pubkey(vcek), EVP_sha384(), r.signed_region,
                      {r.signature_r, r.signature_s, Endian::little})) {
    return refuse("report_signature", "the report is not signed by the VCEK's key");
  }
  const bool turin = *line == SnpProduct::turin;
  auto certified = vcek_tcb(vcek, turin);
  if (!certified) return crypto::unexpected(certified.error());
  const SnpTcb reported = decode_snp_tcb(r.reported_tcb, turin);
  if (!(reported == *certified)) {
    return refuse("vcek_tcb", "REPORTED_TCB (" + describe(reported) + ") is not the VCEK's (" + describe(*certified) + ")");
  }
  const ByteView hwid = extension(vcek, "1.3.6.1.4.1.3704.1.4");
  if (hwid.size != r.chip_id.size || !std::equal(hwid.data, hwid.data + hwid.size, r.chip_id.data)) {
    return refuse("chip_id", "the report's CHIP_ID is not the VCEK's hwID");
  }

  Claims c;
  c.platform = Platform::sev_snp;
  c.report_data = r.report_data.to_bytes();
  c.debug = (r.policy & kSnpPolicyDebug) != 0;
  c.tcb_status = TcbStatus::up_to_date;
  c.measurement = r.measurement.to_bytes();
  c.host_data = r.host_data.to_bytes();
  c.vmpl = r.vmpl;
  c.guest_svn = r.guest_svn;
  c.guest_policy = r.policy;
  c.reported_tcb = {reported.bootloader, reported.tee, reported.snp, reported.microcode, reported.fmc};
  c.collateral_issued = 0;   // a VCEK is no dated collateral: max_collateral_age_days applies to Intel's only
  c.collateral_expires = not_after(vcek);
  return c;
}

}  // namespace sg::attest
