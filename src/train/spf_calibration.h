// The calibration pass behind SPF's `grad` score: accumulated |dL/dW| of every frozen linear weight over a
// few batches, before any adapter is attached.
#pragma once

#include <vector>

#include "data/dataset.h"
#include "peft/spf.h"

namespace sg::model {
class Transformer;
}

namespace sg::train {

peft::GradientScores calibrate_spf_gradients(const model::Transformer& model, const std::vector<data::Batch>& batches,
                                             int max_batches = 8);

}  // namespace sg::train
