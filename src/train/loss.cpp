#include "train/loss.h"

#include <torch/torch.h>

#include "model/transformer.h"

namespace sg::train {

at::Tensor causal_lm_loss(const at::Tensor& logits, const at::Tensor& labels) {
  const int64_t T = logits.size(1), V = logits.size(2);
  auto predictions = logits.narrow(1, 0, T - 1).reshape({-1, V});
  auto targets = labels.narrow(1, 1, T - 1).reshape({-1});
  return torch::nn::functional::cross_entropy(
      predictions.to(at::promote_types(predictions.scalar_type(), torch::kFloat32)), targets,
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
}

at::Tensor causal_lm_loss_at_labels(const at::Tensor& hidden, const at::Tensor& labels, const HeadFn& head) {
  const int64_t T = hidden.size(1), D = hidden.size(2);
  auto targets = labels.narrow(1, 1, T - 1).reshape({-1});
  auto counted = targets.ne(-100).nonzero().squeeze(-1);
  auto logits = head(hidden.narrow(1, 0, T - 1).reshape({-1, D}).index_select(0, counted));
  return torch::nn::functional::cross_entropy(logits.to(at::promote_types(logits.scalar_type(), torch::kFloat32)),
                                              targets.index_select(0, counted));
}

at::Tensor causal_lm_loss_at_labels(const at::Tensor& hidden, const at::Tensor& labels, const model::Transformer& model) {
  return causal_lm_loss_at_labels(hidden, labels, [&model](const at::Tensor& h) { return model.head(h); });
}

}  // namespace sg::train
