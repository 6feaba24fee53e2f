#include "attest/certificate_chain.h"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509_vfy.h>

namespace sg::attest {
namespace {

using StorePtr = std::unique_ptr<X509_STORE, OpenSslDeleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslDeleter<X509_STORE_CTX_free>>;
// The stacks only borrow their certificates and CRLs (sk_*_free is a macro, hence the functions).
void free_cert_stack(STACK_OF(X509) * s) { sk_X509_free(s); }
void free_crl_stack(STACK_OF(X509_CRL) * s) { sk_X509_CRL_free(s); }
using CertStackPtr = std::unique_ptr<STACK_OF(X509), OpenSslDeleter<free_cert_stack>>;
using CrlStackPtr = std::unique_ptr<STACK_OF(X509_CRL), OpenSslDeleter<free_crl_stack>>;

std::string subject_of(X509* cert) {
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(cert), buf, sizeof buf);
  return buf;
}

}  // namespace

Status verify_chain(const ChainCheck& check) {
  StorePtr store(X509_STORE_new());
  if (!store || X509_STORE_add_cert(store.get(), check.root) != 1) {
    return refuse(check.name, "cannot load the pinned root: " + openssl_errors());
  }
  CertStackPtr untrusted(sk_X509_new_null());
  for (X509* cert : check.intermediates) sk_X509_push(untrusted.get(), cert);
  CrlStackPtr crls(sk_X509_CRL_new_null());
  for (X509_CRL* crl : check.crls) sk_X509_CRL_push(crls.get(), crl);

  StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), check.leaf, untrusted.get()) != 1) {
    return refuse(check.name, "cannot set up path validation: " + openssl_errors());
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, check.at);
  if (!check.crls.empty()) {
    X509_STORE_CTX_set0_crls(ctx.get(), crls.get());
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    X509* at_fault = X509_STORE_CTX_get_current_cert(ctx.get());
    ERR_clear_error();
    return refuse(check.name, std::string("certificate ") + (at_fault ? subject_of(at_fault) : subject_of(check.leaf)) +
                                  " does not verify to the pinned root at " + format_utc_time(check.at) + ": " +
                                  X509_verify_cert_error_string(err));
  }
  if (!check.leaf_common_name.empty()) {
    char cn[256] = {0};
    X509_NAME_get_text_by_NID(X509_get_subject_name(check.leaf), NID_commonName, cn, sizeof cn);
    if (check.leaf_common_name != cn) {
      return refuse(check.name, "the leaf certificate is '" + std::string(cn) + "', expected '" + check.leaf_common_name + "'");
    }
  }
  return {};
}

}  // namespace sg::attest
