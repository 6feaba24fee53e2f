#include "train/finetune.h"

#include <torch/torch.h>

#include "model/transformer.h"
#include "train/loss.h"
#include "train/spf_calibration.h"

namespace sg::train {

FinetuneRun finetune(model::Transformer& model, const peft::MethodOptions& method, const EpochBatches& batches,
                     const TrainOptions& options) {
  torch::manual_seed(options.seed);   // adapter init
  peft::GradientScores gradients;
  if (peft::method_uses_spf(method.method) && method.spf.score == peft::SpfScore::Grad)
    gradients = calibrate_spf_gradients(model, batches(0));
  FinetuneRun run;
  run.adapters = peft::attach_method(model, method, gradients);
  run.adapters.set_training(true);
  auto loss = [&](const data::Batch& b) {
    return causal_lm_loss_at_labels(run.adapters.hidden_states(model, b.input_ids, b.attention_mask), b.labels, model);
  };
  run.result = train_local(run.adapters.parameters(), loss, batches, options);
  run.adapters.set_training(false);
  return run;
}

}  // namespace sg::train
