#include "train/progress.h"

#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

namespace sg::train {

namespace {
std::string clock_text(double seconds) {
  const long s = long(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  return buf;
}
}  // namespace

Progress::Progress(int total_steps, const std::string& metrics_path, int log_every)
    : total_steps_(total_steps), log_every_(std::max(1, log_every)), terminal_(isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()) {
  if (!metrics_path.empty()) {
    metrics_.open(metrics_path, std::ios::app);
    if (!metrics_) throw std::runtime_error(metrics_path + ": cannot open the metrics file for writing");
  }
}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::report(const StepMetrics& m) {
  tokens_ += m.tokens;
  const double elapsed = elapsed_seconds();
  const double tokens_per_s = tokens_ / std::max(elapsed, 1e-9);
  const double eta = m.step > 0 ? elapsed / m.step * std::max(0, total_steps_ - m.step) : 0;
  if (metrics_) {
    metrics_ << nlohmann::json{{"step", m.step}, {"loss", m.loss}, {"lr", m.lr}, {"grad_norm", m.grad_norm},
                               {"tokens", m.tokens}, {"tokens_per_s", tokens_per_s}, {"elapsed_s", elapsed}}
                    .dump()
             << "\n";
    metrics_.flush();
  }
  if (terminal_) {
    std::fprintf(stderr, "\r  step %d/%d  loss %.4f  lr %.2e  %.0f tok/s  ETA %s   ", m.step, total_steps_, m.loss,
                 m.lr, tokens_per_s, clock_text(eta).c_str());
  } else if (m.step % log_every_ == 0 || m.step == total_steps_) {
    std::fprintf(stderr, "step %d/%d loss %.4f lr %.2e tokens/s %.0f elapsed %s\n", m.step, total_steps_, m.loss,
                 m.lr, tokens_per_s, clock_text(elapsed).c_str());
  }
}

void Progress::finish() {
  if (terminal_) std::fprintf(stderr, "\n");
}

}  // namespace sg::train
