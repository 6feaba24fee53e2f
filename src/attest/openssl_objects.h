// OpenSSL objects owned by unique_ptr, and the loaders every verifier here uses. All parsing of certificates,
// CRLs and keys is OpenSSL's; these functions only turn its failures into Refusals that name the input.
#pragma once

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "attest/refusal.h"
#include "crypto/bytes.h"

namespace sg::attest {

using crypto::ByteView;
using crypto::Bytes;

template <auto Free>
struct OpenSslDeleter {
  template <class T>
  void operator()(T* p) const { Free(p); }
};
using X509Ptr = std::unique_ptr<X509, OpenSslDeleter<X509_free>>;
using X509CrlPtr = std::unique_ptr<X509_CRL, OpenSslDeleter<X509_CRL_free>>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter<EVP_PKEY_free>>;

// The queued OpenSSL errors as one line (and the queue cleared), for messages.
[[nodiscard]] std::string openssl_errors();

// Every certificate of a PEM bundle, in order; at least one. `what` names the input in errors.
[[nodiscard]] Result<std::vector<X509Ptr>> parse_pem_certificates(std::string_view pem, const std::string& what);
[[nodiscard]] Result<X509Ptr> parse_der_certificate(ByteView der, const std::string& what);
// A CRL in DER, or in PEM when it starts with "-----BEGIN".
[[nodiscard]] Result<X509CrlPtr> parse_crl(ByteView der_or_pem, const std::string& what);

// A whole file of at most `max_bytes`, read no further than that: collateral comes from a cache the
// untrusted host may write, so an oversized file is refused without being loaded.
[[nodiscard]] Result<Bytes> read_file_at_most(const std::string& path, std::size_t max_bytes);

// "2025-06-19T10:16:03Z" (the only form Intel's PCS and our CLI use) as seconds since the epoch (UTC).
[[nodiscard]] Result<std::time_t> parse_utc_time(std::string_view text, const std::string& what);
[[nodiscard]] std::string format_utc_time(std::time_t t);

}  // namespace sg::attest
