#include "attest/ecdsa.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

namespace sg::attest {
namespace {

using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, OpenSslDeleter<EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, OpenSslDeleter<EVP_MD_CTX_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, OpenSslDeleter<ECDSA_SIG_free>>;

BIGNUM* to_bignum(ByteView v, Endian endian) {
  const int n = int(v.size);
  return endian == Endian::big ? BN_bin2bn(v.data, n, nullptr) : BN_lebin2bn(v.data, n, nullptr);
}

}  // namespace

Result<EvpPkeyPtr> p256_public_key(ByteView xy, const std::string& what) {
  if (xy.size != 64) return refuse("key_parse", what + " is " + std::to_string(xy.size) + " bytes, expected 64 (x || y)");
  Bytes point{0x04};   // SEC 1 uncompressed point
  point.insert(point.end(), xy.data, xy.data + xy.size);
  char group[] = "prime256v1";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
      OSSL_PARAM_construct_end(),
  };
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return refuse("key_parse", what + " is not a point on P-256: " + openssl_errors());
  }
  return EvpPkeyPtr(key);
}

bool ecdsa_verifies(EVP_PKEY* key, const EVP_MD* digest, ByteView message, const RawSignature& sig) {
  EcdsaSigPtr ecdsa(ECDSA_SIG_new());
  BIGNUM* r = to_bignum(sig.r, sig.endian);
  BIGNUM* s = to_bignum(sig.s, sig.endian);
  if (!ecdsa || !r || !s || ECDSA_SIG_set0(ecdsa.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(ecdsa.get(), &der);
  if (der_len <= 0) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, digest, nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx.get(), der, std::size_t(der_len), message.data, message.size) == 1;
  OPENSSL_free(der);
  ERR_clear_error();
  return ok;
}

bool ecdsa_rs_verifies(EVP_PKEY* key, const EVP_MD* digest, ByteView message, ByteView rs) {
  if (rs.size == 0 || rs.size % 2 != 0) return false;
  const std::size_t half = rs.size / 2;
  return ecdsa_verifies(key, digest, message, {rs.subview(0, half), rs.subview(half, half), Endian::big});
}

}  // namespace sg::attest
