#include "crypto/cipher_pool.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

namespace sg::crypto {
namespace {

constexpr int kMaxThreads = 8;

int available_cores() {
  cpu_set_t set;
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return int(std::thread::hardware_concurrency());
}

class CipherPool {
 public:
  ~CipherPool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (auto& t : helpers_) t.join();
  }

  void set_threads(int threads) { threads_ = std::clamp(threads, 1, kMaxThreads); }
  int threads() const { return threads_; }

  void run(std::size_t count, const std::function<void(std::size_t)>& body) {
    std::unique_lock<std::mutex> batch(batch_mutex_, std::try_to_lock);
    const std::size_t helpers = batch.owns_lock() ? start_helpers(count) : 0;
    if (helpers == 0) {
      for (std::size_t i = 0; i < count; ++i) body(i);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      count_ = count;
      next_.store(0);
      wanted_ = helpers;
      busy_ = helpers;
      ++generation_;
    }
    for (std::size_t i = 0; i < helpers; ++i) wake_.notify_one();
    drain(body, count);
    std::unique_lock<std::mutex> lock(mutex_);
    busy_ -= wanted_;   // helpers that have not joined yet are not waited for: the frames are all taken
    wanted_ = 0;
    done_.wait(lock, [this] { return busy_ == 0; });
    body_ = nullptr;
  }

 private:
  // Helpers for a batch of `count` frames (the caller takes part too), started on first need; fewer (down to
  // none) if the system refuses threads.
  std::size_t start_helpers(std::size_t count) {
    const std::size_t wanted = std::min<std::size_t>(std::size_t(threads_) - 1, count > 0 ? count - 1 : 0);
    std::lock_guard<std::mutex> lock(mutex_);
    try {
      while (helpers_.size() < wanted) helpers_.emplace_back([this] { serve(); });
    } catch (const std::system_error&) {
    }
    return std::min(wanted, helpers_.size());
  }

  // noexcept: batch bodies never throw (cipher_pool.h); one that did would end the program here rather than
  // unwind while helpers still run it.
  void drain(const std::function<void(std::size_t)>& body, std::size_t count) noexcept {
    for (std::size_t i = next_.fetch_add(1); i < count; i = next_.fetch_add(1)) body(i);
  }

  // A helper takes part in a batch while fewer than the wanted number of helpers have joined it.
  void serve() {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || (generation_ != seen && wanted_ > 0); });
      if (stopping_) return;
      seen = generation_;
      --wanted_;
      const auto* body = body_;
      const std::size_t count = count_;
      lock.unlock();
      drain(*body, count);
      lock.lock();
      if (--busy_ == 0) done_.notify_one();
    }
  }

  std::atomic<int> threads_{std::clamp(available_cores(), 1, kMaxThreads)};
  std::mutex batch_mutex_;   // one batch at a time
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> helpers_;
  const std::function<void(std::size_t)>* body_ = nullptr;
  std::size_t count_ = 0;
  std::atomic<std::size_t> next_{0};
  std::size_t wanted_ = 0, busy_ = 0;
  uint64_t generation_ = 0;
  bool stopping_ = false;
};

CipherPool& pool() {
  static CipherPool instance;
  return instance;
}

}  // namespace

void set_cipher_threads(int threads) { pool().set_threads(threads); }
int cipher_threads() { return pool().threads(); }
void for_each_frame(std::size_t count, const std::function<void(std::size_t)>& body) { pool().run(count, body); }

}  // namespace sg::crypto
