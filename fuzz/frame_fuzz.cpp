// libFuzzer entry: everything the enclave parses from its untrusted host before any key is involved, plus what
// it parses after decryption — AEAD frame headers and frames (AeadChannel::open_frame), tensor chunks
// (TensorAssembler) and envelopes (EnvelopeAssembler), host<->enclave datagrams, ring references and every message payload. Rejection is the
// expected outcome; a crash, a sanitizer report, an exception, or an accepted forgery is a bug.
#include <cstddef>
#include <cstdint>

#include "crypto/envelope.h"
#include "crypto/aead_channel.h"
#include "crypto/tensor_payload.h"
#include "tee/messages.h"
#include "tee/shm_ring.h"

namespace {

using namespace sg;

// One session for the whole run: the fuzzer never sees its key, so it must never get a frame accepted.
crypto::AeadChannel& receiver() {
  static crypto::AeadChannel channel = [] {
    const crypto::KxKeyPair a = crypto::KxKeyPair::generate(), b = crypto::KxKeyPair::generate();
    return crypto::AeadChannel(crypto::derive_session_keys(crypto::Role::server, a, b.public_key).value(), 1 << 16);
  }();
  return channel;
}

std::size_t declared_bytes(const crypto::TensorMeta& meta) {
  std::size_t bytes = crypto::dtype_bytes(meta.dtype).value();
  for (int64_t d : meta.shape) bytes *= std::size_t(d);
  return bytes;
}

void fuzz_boundary(crypto::ByteView input) {
  auto datagram = tee::parse_datagram(input);
  if (!datagram) return;
  static uint8_t ring_memory[4096];
  const tee::ShmRing ring(ring_memory, sizeof ring_memory);
  if (auto slice = tee::parse_ring_slice(datagram->payload)) (void)ring.take(*slice);
  (void)tee::parse_hello(datagram->payload);
  (void)tee::parse_health_report(datagram->payload);
  (void)tee::parse_evidence_reply(datagram->payload);
  (void)tee::parse_frame_list(datagram->payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const crypto::ByteView input(data, size);
  if (crypto::parse_frame_header(input, 1 << 16)) {
    if (receiver().open_frame(input)) __builtin_trap();   // forged without the key
  }

  // Tensor chunks as they come out of decrypted frames: u16 length-prefixed pieces fed to one assembler.
  crypto::TensorAssembler assembler(1 << 20);
  crypto::ByteReader pieces(input);
  uint16_t n = 0;
  crypto::ByteView chunk;
  while (pieces.u16(n) && pieces.raw(n, chunk)) {
    auto tensor = assembler.add(chunk);
    // An assembled tensor must hold exactly what its shape and dtype declare.
    if (tensor && *tensor && (*tensor)->data.size() != declared_bytes((*tensor)->meta)) __builtin_trap();
  }

  // The same pieces as envelope payloads, each piece's first byte its payload kind.
  crypto::EnvelopeAssembler envelopes(1 << 20, 8);
  crypto::ByteReader parts(input);
  uint8_t kind = 0;
  while (parts.u8(kind) && parts.u16(n) && parts.raw(n, chunk)) {
    auto envelope = envelopes.add(crypto::PayloadKind(kind), chunk);
    if (envelope && *envelope) {
      if ((*envelope)->tensors.size() > 8) __builtin_trap();
      for (const auto& t : (*envelope)->tensors)
        if (t.data.size() != declared_bytes(t.meta)) __builtin_trap();
    }
  }

  fuzz_boundary(input);
  return 0;
}
