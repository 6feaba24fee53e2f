// Ed25519 signatures, sealing bound to the measurement, SecretKey hygiene and the hex codec.
#include <gtest/gtest.h>

#include "crypto/sealing.h"
#include "crypto/signing.h"

namespace sg::crypto {
namespace {

const Bytes kMeasurementA(32, 0xAA), kMeasurementB(32, 0xBB);
const ByteView kPurpose("sliceguard-test-state");

TEST(Signing, SignatureVerifies) {
  const auto signer = SigningKeyPair::generate();
  const Signature sig = sign(signer, ByteView("evidence"));
  EXPECT_TRUE(verify_signature(signer.public_key, ByteView("evidence"), sig));
}

TEST(Signing, TamperedMessageOrSignatureRejected) {
  const auto signer = SigningKeyPair::generate();
  Signature sig = sign(signer, ByteView("evidence"));
  auto tampered = verify_signature(signer.public_key, ByteView("evidencE"), sig);
  ASSERT_FALSE(tampered);
  EXPECT_EQ(tampered.error().code, Errc::bad_signature);
  sig[5] ^= 1;
  EXPECT_FALSE(verify_signature(signer.public_key, ByteView("evidence"), sig));
  EXPECT_FALSE(verify_signature(signer.public_key, ByteView("evidence"), ByteView(sig.data(), 63)));
}

TEST(Signing, OtherKeyRejected) {
  const auto signer = SigningKeyPair::generate(), other = SigningKeyPair::generate();
  EXPECT_FALSE(verify_signature(other.public_key, ByteView("m"), sign(signer, ByteView("m"))));
}

TEST(Signing, KeyPairRecreatedFromItsSeed) {
  const auto signer = SigningKeyPair::generate();
  const auto again = SigningKeyPair::from_seed(signer.seed());
  EXPECT_EQ(again.public_key, signer.public_key);
}

TEST(Sealing, SealUnsealRoundTrip) {
  const SecretKey secret = SecretKey::random(32);
  const Bytes state = {1, 2, 3, 4, 5};
  const Bytes blob = seal(derive_sealing_key(secret, kMeasurementA), state, kPurpose);
  auto opened = unseal(derive_sealing_key(secret, kMeasurementA), blob, kPurpose);
  ASSERT_TRUE(opened) << opened.error().message;
  EXPECT_EQ(*opened, state);
}

TEST(Sealing, UnsealUnderAnotherMeasurementFails) {
  const SecretKey secret = SecretKey::random(32);
  const Bytes blob = seal(derive_sealing_key(secret, kMeasurementA), Bytes{1, 2, 3}, kPurpose);
  auto opened = unseal(derive_sealing_key(secret, kMeasurementB), blob, kPurpose);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::bad_tag);
}

TEST(Sealing, UnsealOnAnotherPlatformFails) {
  const Bytes blob = seal(derive_sealing_key(SecretKey::random(32), kMeasurementA), Bytes{1, 2, 3}, kPurpose);
  EXPECT_FALSE(unseal(derive_sealing_key(SecretKey::random(32), kMeasurementA), blob, kPurpose));
}

TEST(Sealing, TamperedTruncatedOrForeignVersionBlobRejected) {
  const SecretKey key = derive_sealing_key(SecretKey::random(16), kMeasurementA);
  const Bytes blob = seal(key, Bytes(100, 7), kPurpose);
  Bytes tampered = blob;
  tampered[40] ^= 1;
  EXPECT_EQ(unseal(key, tampered, kPurpose).error().code, Errc::bad_tag);
  EXPECT_EQ(unseal(key, ByteView(blob.data(), 30), kPurpose).error().code, Errc::truncated);
  Bytes versioned = blob;
  versioned[0] = 9;
  EXPECT_EQ(unseal(key, versioned, kPurpose).error().code, Errc::wrong_version);
}

TEST(Sealing, BlobSealedForOnePurposeDoesNotOpenForAnother) {
  const SecretKey key = derive_sealing_key(SecretKey::random(32), kMeasurementA);
  const Bytes blob = seal(key, Bytes{1, 2, 3}, kPurpose);
  auto opened = unseal(key, blob, ByteView("another purpose"));
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, Errc::bad_tag);
  EXPECT_TRUE(unseal(key, blob, kPurpose));
}

TEST(Sealing, EachSealUsesAFreshNonce) {
  const SecretKey key = derive_sealing_key(SecretKey::random(32), kMeasurementA);
  EXPECT_NE(seal(key, Bytes(10), kPurpose), seal(key, Bytes(10), kPurpose));
}

TEST(SecretKey, MoveTransfersAndEmptiesTheSource) {
  SecretKey a = SecretKey::copy_of(Bytes{9, 8, 7});
  SecretKey b = std::move(a);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(a.data(), nullptr);
  ASSERT_EQ(b.size(), 3u);
  EXPECT_EQ(b.data()[0], 9);
}

TEST(SecretKey, TakeWipesTheSourceBuffer) {
  Bytes buffer = {1, 2, 3, 4};
  const Bytes* source = &buffer;
  SecretKey key = SecretKey::take(buffer);
  EXPECT_TRUE(source->empty());
  EXPECT_EQ(key.size(), 4u);
}

TEST(Hex, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(to_hex(Bytes{0x00, 0xab, 0xff}), "00abff");
  EXPECT_EQ(from_hex("00ABff"), (Bytes{0x00, 0xab, 0xff}));
  EXPECT_EQ(from_hex(""), Bytes{});
  EXPECT_FALSE(from_hex("abc"));
  EXPECT_FALSE(from_hex("zz"));
  EXPECT_FALSE(from_hex("ab cd"));
}

}  // namespace
}  // namespace sg::crypto
