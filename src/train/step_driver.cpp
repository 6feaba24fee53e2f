#include "train/step_driver.h"

#include <stdexcept>

#include "train/progress.h"

namespace sg::train {

TrainResult drive_run(const EpochBatches& batches, const TrainOptions& options, const DrivenRun& run) {
  auto epoch_batches = batches(0);
  if (epoch_batches.empty()) throw std::invalid_argument("train: the dataset produced no batches");
  auto step_options = options;
  step_options.optimizer.accumulation = run.accumulation;
  const int total_steps = planned_steps(epoch_batches.size(), step_options);
  if (run.begin) run.begin(total_steps);

  Progress progress(total_steps, options.metrics_path, options.log_every);
  TrainResult result;
  const int64_t micro_batches = int64_t(run.stop_after >= 0 ? std::min(run.stop_after, total_steps) : total_steps) *
                                run.accumulation;
  const int64_t skip = int64_t(run.skip_steps) * run.accumulation;
  double step_loss = 0;
  int64_t step_tokens = 0;
  BatchPosition at;
  for (int64_t done = 0; done < micro_batches; ++done, ++at.index) {
    if (at.index >= epoch_batches.size()) {
      epoch_batches = batches(++at.epoch);
      at.index = 0;
    }
    if (done < skip) continue;   // trained before a restart
    const auto& batch = epoch_batches[at.index];
    const auto r = run.micro_step(batch, at);
    step_loss += r.loss;
    step_tokens += batch.tokens();
    result.examples += batch.input_ids.size(0);
    if (!r.stepped) continue;
    result.losses.push_back(step_loss);
    progress.report({r.step, step_loss, r.lr, 0.0, step_tokens});
    step_loss = 0;
    step_tokens = 0;
  }
  progress.finish();
  result.steps = int(result.losses.size());
  result.tokens = progress.tokens_seen();
  result.seconds = progress.elapsed_seconds();
  return result;
}

}  // namespace sg::train
