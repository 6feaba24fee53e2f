#include "attest/openssl_objects.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <fstream>
#include <memory>

namespace sg::attest {
namespace {

using BioPtr = std::unique_ptr<BIO, OpenSslDeleter<BIO_free>>;

BioPtr memory_bio(ByteView bytes) { return BioPtr(BIO_new_mem_buf(bytes.data, int(bytes.size))); }

bool starts_with_pem(ByteView bytes) {
  constexpr std::string_view kPem = "-----BEGIN";
  return bytes.size >= kPem.size() && std::string_view(reinterpret_cast<const char*>(bytes.data), kPem.size()) == kPem;
}

}  // namespace

std::string openssl_errors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error queued" : out;
}

Result<std::vector<X509Ptr>> parse_pem_certificates(std::string_view pem, const std::string& what) {
  BioPtr bio = memory_bio(ByteView(pem));
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(cert);
  ERR_clear_error();   // the loop ends on "no start line", which is not an error
  if (certs.empty()) return refuse("certificate_parse", what + " holds no PEM certificate");
  return certs;
}

Result<X509Ptr> parse_der_certificate(ByteView der, const std::string& what) {
  const unsigned char* p = der.data;
  X509Ptr cert(d2i_X509(nullptr, &p, long(der.size)));
  if (!cert || p != der.data + der.size) {
    return refuse("certificate_parse", what + " is not one DER certificate: " + openssl_errors());
  }
  return cert;
}

Result<X509CrlPtr> parse_crl(ByteView der_or_pem, const std::string& what) {
  X509CrlPtr crl;
  if (starts_with_pem(der_or_pem)) {
    BioPtr bio = memory_bio(der_or_pem);
    crl.reset(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const unsigned char* p = der_or_pem.data;
    crl.reset(d2i_X509_CRL(nullptr, &p, long(der_or_pem.size)));
    if (crl && p != der_or_pem.data + der_or_pem.size) crl.reset();
  }
  if (!crl) return refuse("crl_parse", what + " is not a CRL (DER or PEM): " + openssl_errors());
  return crl;
}

Result<Bytes> read_file_at_most(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return refuse("collateral_format", "cannot read " + path);
  Bytes bytes(max_bytes + 1);
  in.read(reinterpret_cast<char*>(bytes.data()), std::streamsize(bytes.size()));
  bytes.resize(std::size_t(in.gcount()));
  if (bytes.size() > max_bytes) {
    return refuse("collateral_format", path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  return bytes;
}

Result<std::time_t> parse_utc_time(std::string_view text, const std::string& what) {
  std::tm tm{};
  const std::string s(text);
  const char* end = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (end == nullptr || *end != '\0') {
    return refuse("time_parse", what + " is '" + s + "', expected a UTC time like 2025-06-19T10:16:03Z");
  }
  return timegm(&tm);
}

std::string format_utc_time(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace sg::attest
