// The pinned roots of trust: Intel's SGX Root CA (SGX and TDX) and AMD's ARK with its ASK per product line.
// Compiled in, so no file on the untrusted host can replace them.
#pragma once

#include <optional>
#include <string_view>

#include "attest/openssl_objects.h"

namespace sg::attest {

[[nodiscard]] X509* intel_sgx_root_ca();

enum class SnpProduct { milan, genoa, turin };
[[nodiscard]] std::optional<SnpProduct> parse_snp_product(std::string_view name);   // "Milan", "milan", ...
[[nodiscard]] std::string_view snp_product_name(SnpProduct product);
struct AmdRoots {
  X509* ark;   // AMD Root Key, self-signed (RSA-4096, RSASSA-PSS)
  X509* ask;   // AMD SEV Key: signs VCEKs
};
[[nodiscard]] AmdRoots amd_roots(SnpProduct product);

}  // namespace sg::attest
