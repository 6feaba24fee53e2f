// Test helper: plays the kernel side of a pseudo-file attestation interface (/dev/attestation, configfs-tsm)
// with FIFOs. Each step blocks until the code under test opens that file, so the script runs in lock step
// with it and checks the order of its reads and writes. finish() unblocks a script the code under test
// abandoned (so a failing test fails instead of hanging) and joins it.
//
// A script must not produce the same FIFO twice in a row without the code under test touching another FIFO in
// between: the second write could land in the reader that is still draining the first. Run one script per
// request instead (run, call, finish, run again).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "tee/messages.h"

namespace sg::tee::testing {

class FakeDevice {
 public:
  explicit FakeDevice(std::string dir) : dir_(std::move(dir)) { ::signal(SIGPIPE, SIG_IGN); }
  ~FakeDevice() { finish(); }

  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  void add_fifo(const std::string& name) {
    ::mkfifo(path(name).c_str(), 0600);
    fifos_.push_back(path(name));
  }

  // Kernel side: waits for the code under test to write `name`, returns what it wrote.
  Bytes consume(const std::string& name) const {
    const int fd = ::open(path(name).c_str(), O_RDONLY);
    Bytes out;
    uint8_t buf[4096];
    for (ssize_t n; fd >= 0 && (n = ::read(fd, buf, sizeof buf)) > 0;) out.insert(out.end(), buf, buf + n);
    if (fd >= 0) ::close(fd);
    return out;
  }
  // Kernel side: waits for the code under test to read `name`, serves `bytes`.
  void produce(const std::string& name, ByteView bytes) const {
    const int fd = ::open(path(name).c_str(), O_WRONLY);
    if (fd < 0) return;
    if (bytes.size > 0) (void)!::write(fd, bytes.data, bytes.size);
    ::close(fd);
  }

  void run(std::function<void(FakeDevice&)> script) {
    done_ = false;
    thread_ = std::thread([this, script = std::move(script)] {
      script(*this);
      done_ = true;
    });
  }

  void finish() {
    if (!thread_.joinable()) return;
    while (!done_) {
      for (const std::string& fifo : fifos_) {   // O_RDWR never blocks on a FIFO and completes a pending open
        const int fd = ::open(fifo.c_str(), O_RDWR | O_NONBLOCK);
        if (fd >= 0) ::close(fd);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    thread_.join();
  }

 private:
  std::string dir_;
  std::vector<std::string> fifos_;
  std::thread thread_;
  std::atomic<bool> done_{false};
};

}  // namespace sg::tee::testing
