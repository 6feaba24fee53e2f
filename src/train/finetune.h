// Local fine-tuning of a loaded model with a PEFT method, as `sliceguard finetune` runs it: seed, attach the
// method's adapters (SPF `grad` scores from a calibration pass over the first epoch), train them with
// train_local on the causal-LM loss. The baseline the secure modes are compared with, in tests and benches too.
#pragma once

#include "peft/adapter_files.h"
#include "peft/methods.h"
#include "train/local_trainer.h"

namespace sg::train {

struct FinetuneRun {
  peft::AdapterSet adapters;   // attached to the model, in eval mode after training
  TrainResult result;
};

FinetuneRun finetune(model::Transformer& model, const peft::MethodOptions& method, const EpochBatches& batches,
                     const TrainOptions& options);

}  // namespace sg::train
