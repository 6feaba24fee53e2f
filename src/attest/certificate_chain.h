// X.509 path validation with OpenSSL at a given time: a leaf, the untrusted certificates that may link it to
// the pinned root, and CRLs. Only the pinned root is trusted; a root carried in the evidence is ignored, so a
// chain that ends in any other root is refused.
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include "attest/openssl_objects.h"

namespace sg::attest {

struct ChainCheck {
  std::string name;                   // the check named in a refusal ("pck_chain", "tcb_signing_chain", "vcek_chain")
  X509* leaf = nullptr;
  std::vector<X509*> intermediates;   // untrusted; the evidence's own copy of the root may be among them
  X509* root = nullptr;               // the pinned trust anchor
  std::vector<X509_CRL*> crls;        // with CRLs, every certificate of the path must have a current one
  std::time_t at = 0;
  std::string leaf_common_name;       // when set, the leaf's subject CN must be exactly this
};

[[nodiscard]] Status verify_chain(const ChainCheck& check);

}  // namespace sg::attest
