// Training objective shared by every trainer (local, split, federated), so their losses agree exactly.
#pragma once

#include <ATen/core/Tensor.h>

namespace sg::train {

// Causal LM loss as Hugging Face computes it: logits (B,T,V) at t predict labels (B,T) at t+1; label -100
// is ignored; the mean is over the counted tokens.
at::Tensor causal_lm_loss(const at::Tensor& logits, const at::Tensor& labels);

}  // namespace sg::train
