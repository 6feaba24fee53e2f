// Shared memory for bulk host<->enclave payloads (sealed frames, sealed state, evidence with quotes).
//
// SharedMemory is a memfd mapped MAP_SHARED in both processes. The host seals it against shrinking and growing
// before the enclave starts, and the enclave refuses an unsealed one: otherwise a host could truncate the file
// and fault the enclave with SIGBUS on its next read.
//
// ShmRing is one direction (one half of the memory): the writer copies each record in at its cursor (wrapping to
// the start when the record does not fit before the end) and names it in a control message by RingSlice. The
// reader never trusts a slice: it checks it against the ring's own size and copies the bytes out before anything
// parses them, because the host can rewrite shared memory at any time. A record lives until the reply to the
// message that carried it, and each direction has one message in flight, so the writer never overwrites an
// unread record.
#pragma once

#include <cstddef>
#include <cstdint>

#include "tee/messages.h"
#include "tee/unique_fd.h"

namespace sg::tee {

class SharedMemory {
 public:
  // Host side: a sealed memfd of `bytes` (rounded up to an even size, for two halves).
  [[nodiscard]] static Result<SharedMemory> create(std::size_t bytes);
  // Enclave side: maps an inherited memfd after checking its seals and size.
  [[nodiscard]] static Result<SharedMemory> attach(int fd);

  SharedMemory(SharedMemory&& other) noexcept;
  SharedMemory& operator=(SharedMemory&& other) noexcept;
  SharedMemory(const SharedMemory&) = delete;
  SharedMemory& operator=(const SharedMemory&) = delete;
  ~SharedMemory();

  int fd() const { return fd_.get(); }
  uint8_t* data() const { return base_; }
  std::size_t size() const { return size_; }

 private:
  SharedMemory(UniqueFd fd, uint8_t* base, std::size_t size) : fd_(std::move(fd)), base_(base), size_(size) {}
  UniqueFd fd_;
  uint8_t* base_ = nullptr;
  std::size_t size_ = 0;
};

struct RingSlice {
  uint64_t offset = 0;
  uint64_t length = 0;
};
inline constexpr std::size_t kRingSliceBytes = 16;
[[nodiscard]] Bytes encode(const RingSlice& slice);
[[nodiscard]] Result<RingSlice> parse_ring_slice(ByteView payload);

class ShmRing {
 public:
  ShmRing(uint8_t* base, std::size_t size) : base_(base), size_(size) {}

  // Writer: copies `bytes` in; fails when a record is larger than the whole ring.
  [[nodiscard]] Result<RingSlice> put(ByteView bytes);
  // Reader: bounds-checks `slice` against this ring and copies the record out.
  [[nodiscard]] Result<Bytes> take(const RingSlice& slice) const;
  std::size_t size() const { return size_; }   // the largest record

 private:
  uint8_t* base_;
  std::size_t size_;
  std::size_t cursor_ = 0;
};

}  // namespace sg::tee
