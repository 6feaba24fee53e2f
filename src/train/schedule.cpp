#include "train/schedule.h"

#include <algorithm>
#include <cmath>

namespace sg::train {

double cosine_with_warmup(int step, int total_steps, int warmup_steps, double peak_lr) {
  if (step < warmup_steps) return peak_lr * double(step) / std::max(1, warmup_steps);
  const double progress = double(step - warmup_steps) / std::max(1, total_steps - warmup_steps);
  return peak_lr * std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * progress)));
}

}  // namespace sg::train
