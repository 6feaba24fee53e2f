#include "tee/shm_ring.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace sg::tee {
namespace {

constexpr int kRequiredSeals = F_SEAL_SHRINK | F_SEAL_GROW;
constexpr std::size_t kMaxSharedBytes = std::size_t(1) << 32;

crypto::Unexpected<Error> sys_error(const std::string& what) {
  return fail(Errc::io, what + ": " + std::strerror(errno));
}

Result<uint8_t*> map_shared(int fd, std::size_t size) {
  void* base = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) return sys_error("mmap of the shared ring");
  return static_cast<uint8_t*>(base);
}

}  // namespace

Result<SharedMemory> SharedMemory::create(std::size_t bytes) {
  bytes += bytes % 2;
  if (bytes < 2 * kMaxInlinePayload || bytes > kMaxSharedBytes) {
    return fail(Errc::config, "shared ring size " + std::to_string(bytes) + " is out of range");
  }
  UniqueFd fd(::memfd_create("sliceguard-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!fd) return sys_error("memfd_create");
  if (::ftruncate(fd.get(), off_t(bytes)) != 0) return sys_error("ftruncate of the shared ring");
  if (::fcntl(fd.get(), F_ADD_SEALS, kRequiredSeals | F_SEAL_SEAL) != 0) return sys_error("sealing the shared ring");
  auto base = map_shared(fd.get(), bytes);
  if (!base) return crypto::unexpected(base.error());
  return SharedMemory(std::move(fd), *base, bytes);
}

Result<SharedMemory> SharedMemory::attach(int fd) {
  const int seals = ::fcntl(fd, F_GET_SEALS);
  if (seals < 0) return sys_error("reading the seals of the shared ring fd " + std::to_string(fd));
  if ((seals & kRequiredSeals) != kRequiredSeals) {
    return fail(Errc::protocol, "shared ring is not sealed against resizing; refusing it (a host could fault the enclave)");
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) return sys_error("fstat of the shared ring");
  const auto size = std::size_t(st.st_size);
  if (size % 2 != 0 || size < 2 * kMaxInlinePayload || size > kMaxSharedBytes) {
    return fail(Errc::protocol, "shared ring size " + std::to_string(size) + " is out of range");
  }
  auto base = map_shared(fd, size);
  if (!base) return crypto::unexpected(base.error());
  return SharedMemory(UniqueFd(fd), *base, size);
}

SharedMemory::SharedMemory(SharedMemory&& other) noexcept
    : fd_(std::move(other.fd_)), base_(std::exchange(other.base_, nullptr)), size_(std::exchange(other.size_, 0)) {}

SharedMemory& SharedMemory::operator=(SharedMemory&& other) noexcept {
  if (this != &other) {
    if (base_) ::munmap(base_, size_);
    fd_ = std::move(other.fd_);
    base_ = std::exchange(other.base_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SharedMemory::~SharedMemory() {
  if (base_) ::munmap(base_, size_);
}

Bytes encode(const RingSlice& slice) {
  Bytes out;
  crypto::ByteWriter w(out);
  w.u64(slice.offset);
  w.u64(slice.length);
  return out;
}

Result<RingSlice> parse_ring_slice(ByteView payload) {
  crypto::ByteReader r(payload);
  RingSlice slice;
  if (payload.size != kRingSliceBytes || !r.u64(slice.offset) || !r.u64(slice.length)) {
    return fail(Errc::protocol, "ring reference must be exactly " + std::to_string(kRingSliceBytes) + " bytes");
  }
  return slice;
}

Result<RingSlice> ShmRing::put(ByteView bytes) {
  if (bytes.size > size_) {
    return fail(Errc::protocol, "payload of " + std::to_string(bytes.size) + " bytes exceeds the shared ring (" +
                                    std::to_string(size_) + " bytes each way)");
  }
  if (bytes.size > size_ - cursor_) cursor_ = 0;
  RingSlice slice{cursor_, bytes.size};
  std::memcpy(base_ + cursor_, bytes.data, bytes.size);
  cursor_ += bytes.size;
  return slice;
}

Result<Bytes> ShmRing::take(const RingSlice& slice) const {
  // Written so that no sum can overflow: offset <= size, then length <= size - offset.
  if (slice.offset > size_ || slice.length > size_ - slice.offset) {
    return fail(Errc::protocol, "ring reference [" + std::to_string(slice.offset) + ", +" + std::to_string(slice.length) +
                                    ") lies outside the " + std::to_string(size_) + "-byte ring");
  }
  return Bytes(base_ + slice.offset, base_ + slice.offset + slice.length);
}

}  // namespace sg::tee
