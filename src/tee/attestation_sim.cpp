#include "tee/attestation_sim.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "crypto/sealing.h"
#include "tee/unique_fd.h"

namespace sg::tee {
namespace {

Bytes signed_message(const Evidence& e) {
  Bytes msg;
  crypto::ByteWriter w(msg);
  w.raw(ByteView("sliceguard-sim-evidence-v1"));
  w.bytes32(e.measurement);
  w.raw(e.report_data);
  return msg;
}

crypto::Unexpected<Error> key_error(const std::string& path, const std::string& what) {
  return fail(Errc::config, "sim platform key " + path + ": " + what);
}

Result<crypto::SigningKeyPair> read_platform_key(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return key_error(path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return key_error(path, "not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 0777));
    return key_error(path, std::string("is accessible by group or others (mode ") + mode + "); chmod 600 it");
  }
  crypto::SecretKey seed(crypto::kSigningSeedBytes);
  if (st.st_size != off_t(seed.size()) || ::read(fd.get(), seed.data(), seed.size()) != ssize_t(seed.size())) {
    return key_error(path, "must hold exactly " + std::to_string(seed.size()) + " bytes");
  }
  return crypto::SigningKeyPair::from_seed(seed);
}

// Writes a fresh key to a private temp file and publishes it with link(2), which fails if another process
// published one first: concurrent enclaves agree on a single key and never read a half-written file.
Status create_platform_key(const std::string& path) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const auto pair = crypto::SigningKeyPair::generate();
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd) return key_error(tmp, std::strerror(errno));
    const crypto::SecretKey seed = pair.seed();
    if (::write(fd.get(), seed.data(), seed.size()) != ssize_t(seed.size()) || ::fsync(fd.get()) != 0) {
      ::unlink(tmp.c_str());
      return key_error(tmp, std::strerror(errno));
    }
  }
  const bool published = ::link(tmp.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (!published && link_errno != EEXIST) return key_error(path, std::strerror(link_errno));
  if (published) std::ofstream(path + ".pub") << crypto::to_hex(pair.public_key) << "\n";
  return {};
}

}  // namespace

Result<crypto::SigningKeyPair> load_or_create_platform_key(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0) {
    if (auto created = create_platform_key(path); !created) return crypto::unexpected(created.error());
  }
  return read_platform_key(path);
}

Result<crypto::Digest32> sim_code_digest(const std::string& binary_path) {
  std::ifstream binary(binary_path, std::ios::binary);
  if (!binary) return fail(Errc::io, "cannot read enclave binary " + binary_path);
  crypto::Sha256 sha;
  std::vector<char> buffer(1 << 20);
  while (binary.read(buffer.data(), std::streamsize(buffer.size())) || binary.gcount() > 0) {
    sha.update(ByteView(reinterpret_cast<const uint8_t*>(buffer.data()), std::size_t(binary.gcount())));
  }
  return sha.finish();
}

Bytes sim_measurement_of(const crypto::Digest32& code, ByteView config_bytes) {
  crypto::Sha256 config;
  config.update(config_bytes);
  const crypto::Digest32 config_digest = config.finish();
  crypto::Sha256 sha;
  sha.update(ByteView("sliceguard-sim-measurement-v2"));
  sha.update(ByteView(code.data(), code.size()));
  sha.update(ByteView(config_digest.data(), config_digest.size()));
  const crypto::Digest32 digest = sha.finish();
  return Bytes(digest.begin(), digest.end());
}

Result<Bytes> sim_measurement(const std::string& binary_path, ByteView config_bytes) {
  auto code = sim_code_digest(binary_path);
  if (!code) return crypto::unexpected(code.error());
  return sim_measurement_of(*code, config_bytes);
}

Result<std::unique_ptr<AttestationBackend>> SimBackend::create(const EnclaveConfig& config) {
  auto platform = load_or_create_platform_key(config.sim_platform_key);
  if (!platform) return crypto::unexpected(platform.error());
  auto measurement = sim_measurement("/proc/self/exe", config.bytes);
  if (!measurement) return crypto::unexpected(measurement.error());
  return std::unique_ptr<AttestationBackend>(new SimBackend(std::move(*platform), std::move(*measurement)));
}

Result<Evidence> SimBackend::attest(const crypto::Digest64& report_data) {
  Evidence e;
  e.backend = Backend::sim;
  e.measurement = measurement_;
  e.report_data = report_data;
  const crypto::Signature sig = crypto::sign(platform_, signed_message(e));
  e.signature.assign(sig.begin(), sig.end());
  return e;
}

Result<crypto::SecretKey> SimBackend::sealing_key() {
  return crypto::derive_sealing_key(platform_.seed(), measurement_);
}

Status verify_sim_evidence(const Evidence& evidence, const Policy& policy) {
  const Bytes msg = signed_message(evidence);
  for (const crypto::VerifyKey& key : policy.sim_platform_keys) {
    if (crypto::verify_signature(key, msg, evidence.signature)) return {};
  }
  return fail(Errc::evidence, "sim evidence signature does not verify under any sim_platform_keys of " + policy.source);
}

}  // namespace sg::tee
