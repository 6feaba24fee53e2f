#include "tee/signing_key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <sodium.h>

#include "tee/unique_fd.h"

namespace sg::tee {
namespace {

crypto::Unexpected<Error> key_error(const std::string& what, const std::string& path, const std::string& reason) {
  return fail(Errc::config, what + " " + path + ": " + reason);
}

Result<crypto::SigningKeyPair> read_signing_key(const std::string& path, const std::string& what) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return key_error(what, path, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) return key_error(what, path, "not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", unsigned(st.st_mode & 0777));
    return key_error(what, path, std::string("is accessible by group or others (mode ") + mode + "); chmod 600 it");
  }
  crypto::SecretKey seed(crypto::kSigningSeedBytes);
  if (st.st_size != off_t(seed.size()) || ::read(fd.get(), seed.data(), seed.size()) != ssize_t(seed.size())) {
    return key_error(what, path, "must hold exactly " + std::to_string(seed.size()) + " bytes");
  }
  return crypto::SigningKeyPair::from_seed(seed);
}

// Writes a fresh key to a private temp file and publishes it with link(2), which fails if another process
// published one first: concurrent processes agree on a single key and never read a half-written file.
Status create_signing_key(const std::string& path, const std::string& what) {
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  const auto pair = crypto::SigningKeyPair::generate();
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd) return key_error(what, tmp, std::strerror(errno));
    const crypto::SecretKey seed = pair.seed();
    if (::write(fd.get(), seed.data(), seed.size()) != ssize_t(seed.size()) || ::fsync(fd.get()) != 0) {
      ::unlink(tmp.c_str());
      return key_error(what, tmp, std::strerror(errno));
    }
  }
  const bool published = ::link(tmp.c_str(), path.c_str()) == 0;
  const int link_errno = errno;
  ::unlink(tmp.c_str());
  if (!published && link_errno != EEXIST) return key_error(what, path, std::strerror(link_errno));
  if (published) std::ofstream(path + ".pub") << crypto::to_hex(pair.public_key) << "\n";
  return {};
}

}  // namespace

Result<crypto::SigningKeyPair> load_or_create_signing_key(const std::string& path, const std::string& what) {
  if (::access(path.c_str(), F_OK) != 0) {
    if (auto created = create_signing_key(path, what); !created) return crypto::unexpected(created.error());
  }
  return read_signing_key(path, what);
}

Result<crypto::VerifyKey> parse_verify_key_hex(const std::string& hex, const std::string& source) {
  crypto::VerifyKey key{};
  std::size_t written = 0;
  if (hex.size() != 2 * key.size() ||
      sodium_hex2bin(key.data(), key.size(), hex.data(), hex.size(), nullptr, &written, nullptr) != 0 ||
      written != key.size())
    return fail(Errc::config, source + ": expected an Ed25519 public key as 64 hex digits, got \"" +
                                  hex.substr(0, 80) + "\"");
  return key;
}

Result<crypto::VerifyKey> read_verify_key(const std::string& hex_or_path) {
  if (hex_or_path.size() == 64 && hex_or_path.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos)
    return parse_verify_key_hex(hex_or_path, "public key");
  std::ifstream in(hex_or_path);
  std::string hex;
  if (!(in >> hex)) return fail(Errc::config, hex_or_path + ": cannot read a public key (64 hex digits)");
  return parse_verify_key_hex(hex, hex_or_path);
}

}  // namespace sg::tee
