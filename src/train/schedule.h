// Learning-rate schedule: linear warmup from 0, then cosine decay to 0 (HF get_cosine_schedule_with_warmup).
#pragma once

namespace sg::train {

double cosine_with_warmup(int step, int total_steps, int warmup_steps, double peak_lr);

}  // namespace sg::train
