// Training objective shared by every trainer (local, split, federated), so their losses agree exactly.
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>

namespace sg::model {
class Transformer;
}

namespace sg::train {

// Causal LM loss as Hugging Face computes it: logits (B,T,V) at t predict labels (B,T) at t+1; label -100
// is ignored; the mean is over the counted tokens.
at::Tensor causal_lm_loss(const at::Tensor& logits, const at::Tensor& labels);

// The same loss from the final hidden states (B,T,D), with `head` ((N,D) -> (N,V): final norm + LM head) applied
// only at the positions whose next label counts. The loss covers the response alone (a label and EOS in the
// classification tasks: ~8% of positions), so the head's GEMM and the vocabulary softmax shrink with it; equal to
// causal_lm_loss(head(hidden), labels) up to float rounding, and no gradient flows to the uncounted positions.
// Its time grows with the counted labels: code that must not reveal them through timing (an enclave) uses
// causal_lm_loss over the full head instead.
using HeadFn = std::function<at::Tensor(const at::Tensor&)>;
at::Tensor causal_lm_loss_at_labels(const at::Tensor& hidden, const at::Tensor& labels, const HeadFn& head);
// With `model`'s own head (final norm + LM head).
at::Tensor causal_lm_loss_at_labels(const at::Tensor& hidden, const at::Tensor& labels, const model::Transformer& model);

}  // namespace sg::train
