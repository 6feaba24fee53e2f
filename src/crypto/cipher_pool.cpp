#include "crypto/cipher_pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace sg::crypto {
namespace {

constexpr int kMaxThreads = 8;

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
    const std::size_t helpers = std::min<std::size_t>(std::size_t(threads_) - 1, count > 0 ? count - 1 : 0);
    std::unique_lock<std::mutex> batch(batch_mutex_, std::try_to_lock);
    if (helpers == 0 || !batch.owns_lock()) {
      for (std::size_t i = 0; i < count; ++i) body(i);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      while (helpers_.size() < helpers) helpers_.emplace_back([this] { serve(); });
      body_ = &body;
      count_ = count;
      next_.store(0);
      wanted_ = helpers;
      busy_ = helpers;
      ++generation_;
    }
    wake_.notify_all();
    drain(body, count);
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return busy_ == 0; });
    body_ = nullptr;
  }

 private:
  void drain(const std::function<void(std::size_t)>& body, std::size_t count) {
    for (std::size_t i = next_.fetch_add(1); i < count; i = next_.fetch_add(1)) body(i);
  }

  // A helper takes part in a batch when fewer than `wanted_` helpers have joined it yet.
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

  std::atomic<int> threads_{std::clamp(int(std::thread::hardware_concurrency()), 1, kMaxThreads)};
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
