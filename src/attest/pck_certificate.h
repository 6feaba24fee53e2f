// The Intel SGX extension of a PCK certificate (OID 1.2.840.113741.1.13.1): the platform's TCB as certified
// (16 SGX TCB component SVNs, PCESVN, CPUSVN), FMSPC and PCE-ID, which select and match the TCB info. Decoded
// with OpenSSL's ASN.1 parser (a SEQUENCE of {OID, value} pairs, the TCB a nested one of the same shape).
#pragma once

#include <array>
#include <cstdint>

#include "attest/openssl_objects.h"

namespace sg::attest {

struct PckTcb {
  std::array<uint8_t, 16> sgx_components{};   // OIDs ...13.1.2.1 .. .2.16
  uint16_t pce_svn = 0;                         // ...13.1.2.17
  Bytes cpu_svn;                                // ...13.1.2.18
  Bytes fmspc;                                  // ...13.1.4, 6 bytes
  Bytes pce_id;                                 // ...13.1.3, 2 bytes
};

[[nodiscard]] Result<PckTcb> read_pck_tcb(X509* pck_certificate);

}  // namespace sg::attest
