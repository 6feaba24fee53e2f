#include "attest/dcap_quote.h"

#include "attest/little_endian.h"

#include <algorithm>
#include <string>

namespace sg::attest {
namespace {

constexpr std::size_t kHeaderBytes = 48;
constexpr std::size_t kSgxBodyBytes = 384;
constexpr std::size_t kTdx10BodyBytes = 584;
constexpr std::size_t kTdx15BodyBytes = 648;
constexpr uint16_t kEcdsaP256 = 2;
constexpr uint16_t kCertPckChain = 5;
constexpr uint16_t kCertQeReport = 6;

crypto::Unexpected<Refusal> truncated(const std::string& field) { return refuse("quote_format", "quote truncated in " + field); }

SgxReportBody sgx_body(ByteView b) {
  SgxReportBody r;
  r.raw = b;
  r.cpu_svn = b.subview(0, 16);
  r.misc_select = load_le<uint32_t>(b, 16);
  r.attributes = b.subview(48, 16);
  r.mr_enclave = b.subview(64, 32);
  r.mr_signer = b.subview(128, 32);
  r.isv_prod_id = load_le<uint16_t>(b, 256);
  r.isv_svn = load_le<uint16_t>(b, 258);
  r.report_data = b.subview(320, 64);
  return r;
}

TdReportBody td_body(ByteView b) {
  TdReportBody r;
  r.tee_tcb_svn = b.subview(0, 16);
  r.mr_seam = b.subview(16, 48);
  r.mr_signer_seam = b.subview(64, 48);
  r.seam_attributes = b.subview(112, 8);
  r.td_attributes = load_le<uint64_t>(b, 120);
  r.xfam = b.subview(128, 8);
  r.mr_td = b.subview(136, 48);
  r.mr_config_id = b.subview(184, 48);
  r.mr_owner = b.subview(232, 48);
  r.mr_owner_config = b.subview(280, 48);
  for (int i = 0; i < 4; ++i) r.rtmr[i] = b.subview(328 + 48 * i, 48);
  r.report_data = b.subview(520, 64);
  return r;
}

// Reads one certification data entry: type, length, bytes.
Status read_cert_data(crypto::ByteReader& r, uint16_t expected_type, ByteView& data) {
  uint16_t type = 0;
  uint32_t size = 0;
  if (!r.u16(type) || !r.u32(size)) return truncated("certification data header");
  if (type != expected_type) {
    return refuse("quote_format", "certification data type " + std::to_string(type) + ", expected " +
                                      std::to_string(expected_type));
  }
  if (!r.raw(size, data)) return truncated("certification data of type " + std::to_string(type));
  return {};
}

// QE report, its signature, QE auth data, then the PCK chain (type 5).
Status read_qe_section(crypto::ByteReader& r, DcapQuote& q) {
  ByteView qe_report;
  uint16_t auth_size = 0;
  if (!r.raw(kSgxBodyBytes, qe_report) || !r.raw(64, q.qe_report_signature) || !r.u16(auth_size) ||
      !r.raw(auth_size, q.qe_auth_data)) {
    return truncated("QE report section");
  }
  q.qe_report = sgx_body(qe_report);
  return read_cert_data(r, kCertPckChain, q.pck_chain_pem);
}

}  // namespace

Result<DcapQuote> parse_dcap_quote(ByteView quote) {
  if (quote.size > kMaxQuoteBytes) {
    return refuse("quote_format", "quote of " + std::to_string(quote.size) + " bytes exceeds " +
                                      std::to_string(kMaxQuoteBytes));
  }
  if (quote.size < kHeaderBytes) return truncated("header");
  DcapQuote q;
  q.version = load_le<uint16_t>(quote, 0);
  const uint16_t key_type = load_le<uint16_t>(quote, 2);
  const uint32_t tee = load_le<uint32_t>(quote, 4);
  if (key_type != kEcdsaP256) {
    return refuse("quote_format", "attestation key type " + std::to_string(key_type) + ", expected 2 (ECDSA P-256)");
  }
  if (tee != uint32_t(TeeType::sgx) && tee != uint32_t(TeeType::tdx)) {
    return refuse("quote_format", "TEE type 0x" + crypto::to_hex(quote.subview(4, 4)) + " is neither SGX nor TDX");
  }
  static constexpr uint8_t kIntelQeVendorId[16] = {0x93, 0x9A, 0x72, 0x33, 0xF7, 0x9C, 0x4C, 0xA9,
                                                   0x94, 0x0A, 0x0D, 0xB3, 0x95, 0x7F, 0x06, 0x07};
  if (!std::equal(kIntelQeVendorId, kIntelQeVendorId + 16, quote.data + 12)) {
    return refuse("quote_format", "QE vendor ID " + crypto::to_hex(quote.subview(12, 16)) + " is not Intel's");
  }
  q.tee = TeeType(tee);
  const bool expect_v3 = q.tee == TeeType::sgx;
  if (expect_v3 ? q.version != 3 : (q.version != 4 && q.version != 5)) {
    return refuse("quote_format", "quote version " + std::to_string(q.version) + " is not supported for " +
                                      (expect_v3 ? "SGX (3)" : "TDX (4 or 5)"));
  }

  crypto::ByteReader r(quote.subview(kHeaderBytes, quote.size - kHeaderBytes));
  ByteView body;
  if (q.version == 5) {
    uint16_t body_type = 0;
    uint32_t body_size = 0;
    if (!r.u16(body_type) || !r.u32(body_size)) return truncated("v5 body descriptor");
    const std::size_t expected = body_type == 2 ? kTdx10BodyBytes : body_type == 3 ? kTdx15BodyBytes : 0;
    if (expected == 0 || body_size != expected) {
      return refuse("quote_format", "v5 body type " + std::to_string(body_type) + " of " + std::to_string(body_size) +
                                        " bytes; expected type 2 (584) or 3 (648)");
    }
    if (!r.raw(body_size, body)) return truncated("TD report body");
  } else if (!r.raw(q.tee == TeeType::sgx ? kSgxBodyBytes : kTdx10BodyBytes, body)) {
    return truncated("report body");
  }
  q.signed_region = quote.subview(0, std::size_t(body.data + body.size - quote.data));
  if (q.tee == TeeType::sgx) q.enclave = sgx_body(body);
  else q.td = td_body(body);

  uint32_t sig_size = 0;
  ByteView sig_data;
  if (!r.u32(sig_size) || !r.raw(sig_size, sig_data)) return truncated("signature data");
  // Quotes read from configfs-tsm or a fixed-size buffer come zero-padded; anything else after is refused.
  const ByteView tail = r.rest();
  if (std::any_of(tail.data, tail.data + tail.size, [](uint8_t b) { return b != 0; })) {
    return refuse("quote_format", "non-zero bytes follow the signature data");
  }
  crypto::ByteReader s(sig_data);
  if (!s.raw(64, q.quote_signature) || !s.raw(64, q.attestation_key)) return truncated("quote signature");
  if (q.version == 3) {
    if (auto st = read_qe_section(s, q); !st) return crypto::unexpected(st.error());
  } else {
    ByteView qe_cert_data;
    if (auto st = read_cert_data(s, kCertQeReport, qe_cert_data); !st) return crypto::unexpected(st.error());
    crypto::ByteReader inner(qe_cert_data);
    if (auto st = read_qe_section(inner, q); !st) return crypto::unexpected(st.error());
  }
  return q;
}

}  // namespace sg::attest
