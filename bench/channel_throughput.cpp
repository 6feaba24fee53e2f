// AEAD channel throughput: a tensor of 1, 4, 16 and 64 MB is sealed into frames (XChaCha20-Poly1305, 128 KiB
// chunks) and opened and reassembled on the other end, beside memcpy of the same size as the yardstick.
// On one core, frame by frame (the streaming path):
//   seal_gbps       tensor bytes per second through TensorSender alone (encrypt)
//   round_trip_gbps tensor bytes per second through TensorSender + open_frame_into + TensorAssembler (encrypt+decrypt)
//   ratio           round_trip_gbps / memcpy_gbps
// As one envelope, each side's frames as one batch on the cipher pool (`batch_threads` threads; the path the
// host<->enclave calls take):
//   batch_seal_gbps        seal_envelope
//   batch_round_trip_gbps  seal_envelope + open_envelope
#include <chrono>
#include <cstring>

#include "bench/benches.h"
#include "crypto/cipher_pool.h"
#include "crypto/envelope.h"
#include "crypto/aead_channel.h"
#include "crypto/tensor_payload.h"

namespace sg::bench {
namespace {

using Clock = std::chrono::steady_clock;
using namespace sg::crypto;

// Runs `fn` `reps` times after one warm-up run and returns bytes_per_run * reps / seconds, in GB/s.
template <class Fn>
double gbps(std::size_t bytes_per_run, int reps, Fn&& fn) {
  fn();
  const auto start = Clock::now();
  for (int i = 0; i < reps; ++i) fn();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return double(bytes_per_run) * reps / seconds / 1e9;
}

AeadChannel channel(Role role, const KxKeyPair& mine, const KxKeyPair& peer) {
  return AeadChannel(derive_session_keys(role, mine, peer.public_key).value());
}

}  // namespace

nlohmann::json bench_channel() {
  nlohmann::json rows = nlohmann::json::array();
  for (std::size_t mb : {1, 4, 16, 64}) {
    const std::size_t bytes = mb << 20;
    const int reps = int(std::max<std::size_t>(4, (std::size_t(512) << 20) / bytes));
    Bytes data(bytes), copy(bytes);
    for (std::size_t i = 0; i < bytes; ++i) data[i] = uint8_t(i * 2654435761u >> 13);
    const TensorMeta meta{"bench", "U8", {int64_t(bytes)}};

    const double memcpy_gbps = gbps(bytes, reps, [&] { std::memcpy(copy.data(), data.data(), bytes); });

    const KxKeyPair a = KxKeyPair::generate(), b = KxKeyPair::generate();
    TensorSender sender;
    AeadChannel sealer = channel(Role::client, a, b);
    const double seal_gbps = gbps(bytes, reps, [&] {
      sender.send(sealer, PayloadKind::tensor, meta, data, [](ByteView) -> Status { return {}; }).value();
    });

    AeadChannel client = channel(Role::client, a, b), server = channel(Role::server, b, a);
    Bytes plaintext(kDefaultMaxFramePayload);
    const double round_trip_gbps = gbps(bytes, reps, [&] {
      TensorAssembler assembler;
      std::optional<Tensor> received;
      sender.send(client, PayloadKind::tensor, meta, data, [&](ByteView frame) -> Status {
        auto header = server.open_frame_into(frame, {plaintext.data(), plaintext.size()});
        if (!header) return unexpected(header.error());
        auto tensor = assembler.add(ByteView(plaintext.data(), header->length));
        if (!tensor) return unexpected(tensor.error());
        if (*tensor) received = std::move(*tensor);
        return {};
      }).value();
      if (!received || received->data.size() != bytes) throw std::runtime_error("bench_channel: tensor lost");
    });

    Envelope envelope{"{}", {Tensor{meta, data}}};
    const double batch_seal_gbps = gbps(bytes, reps, [&] { seal_envelope(sealer, envelope).value(); });
    const double batch_round_trip_gbps = gbps(bytes, reps, [&] {
      const auto frames = seal_envelope(client, envelope).value();
      const auto received = open_envelope(server, {frames.begin(), frames.end()}).value();
      if (received.tensors.at(0).data.size() != bytes) throw std::runtime_error("bench_channel: tensor lost");
    });

    rows.push_back({{"tensor_mb", mb},
                    {"memcpy_gbps", memcpy_gbps},
                    {"seal_gbps", seal_gbps},
                    {"round_trip_gbps", round_trip_gbps},
                    {"ratio", round_trip_gbps / memcpy_gbps},
                    {"batch_seal_gbps", batch_seal_gbps},
                    {"batch_round_trip_gbps", batch_round_trip_gbps}});
  }
  return {{"cipher", "XChaCha20-Poly1305 (libsodium)"},
          {"chunk_bytes", kDefaultTensorChunkBytes},
          {"threads", 1},
          {"batch_threads", cipher_threads()},
          {"rows", rows}};
}

}  // namespace sg::bench
