#include "tee/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tee/unique_fd.h"

namespace sg::tee {
namespace {

crypto::Unexpected<Error> io_error(const std::string& path, const std::string& what) {
  return fail(Errc::io, path + ": " + what);
}

}  // namespace

Result<Bytes> read_file(const std::string& path, std::size_t max_bytes) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return io_error(path, std::strerror(errno));
  Bytes out;
  uint8_t buffer[16384];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(path, std::strerror(errno));
    if (n == 0) return out;
    if (out.size() + std::size_t(n) > max_bytes) return io_error(path, "larger than " + std::to_string(max_bytes) + " bytes");
    out.insert(out.end(), buffer, buffer + n);
  }
}

Status write_file(const std::string& path, ByteView bytes) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return io_error(path, std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size) {
    const ssize_t n = ::write(fd.get(), bytes.data + done, bytes.size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error(path, std::strerror(errno));
    done += std::size_t(n);
  }
  return {};
}

}  // namespace sg::tee
