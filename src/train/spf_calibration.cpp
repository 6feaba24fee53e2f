#include "train/spf_calibration.h"

#include <torch/torch.h>

#include "model/transformer.h"
#include "train/local_trainer.h"

namespace sg::train {

peft::GradientScores calibrate_spf_gradients(const model::Transformer& model, const std::vector<data::Batch>& batches,
                                             int max_batches) {
  const auto modules = model.linear_modules();
  std::vector<at::Tensor> weights;
  for (const auto& m : modules) {
    at::Tensor w = m.linear->weight;   // shares the model's tensor: gradients land on it
    w.requires_grad_(true);
    weights.push_back(w);
  }
  peft::GradientScores scores;
  const auto loss = causal_lm_objective(model);
  const int n = std::min<int>(max_batches, int(batches.size()));
  for (int i = 0; i < n; ++i) {
    loss(batches[i]).backward();
    for (size_t k = 0; k < modules.size(); ++k) {
      auto g = weights[k].grad().abs();
      auto& acc = scores[modules[k].name];
      acc = acc.defined() ? acc + g : g;
      weights[k].mutable_grad().reset();
    }
  }
  for (auto& w : weights) w.requires_grad_(false);
  return scores;
}

}  // namespace sg::train
