// Autoregressive generation with a KV cache: greedy, temperature, top-k, top-p, seed, stop tokens, streaming.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace sg::model {

class Transformer;
class Tokenizer;

struct SamplingOptions {
  int max_new_tokens = 64;
  double temperature = 0.0;   // 0 = greedy (argmax)
  int top_k = 0;              // 0 = no top-k filter
  double top_p = 1.0;         // 1 = no nucleus filter
  uint64_t seed = 0;
  std::vector<int32_t> stop_tokens;   // generation ends after emitting one of these
};

struct KvCache;

// The model as generation sees it: the next-token logits (V) after feeding `input` (1,T) at positions
// past .. past+T-1, extending whatever KV cache the function keeps (a local model, or a split one whose layers
// live in two processes).
using NextTokenLogits = std::function<at::Tensor(const at::Tensor& input, int64_t past)>;

// Sampling loop over any NextTokenLogits, starting at position `past`. Same result and contract as below.
std::vector<int32_t> generate(const NextTokenLogits& next_logits, const std::vector<int32_t>& prompt,
                              const SamplingOptions& options, const std::function<void(int32_t)>& on_token = {},
                              int64_t past = 0);

// Returns the new tokens (a stop token, when hit, is the last one). `on_token` sees each as it is made.
// `cache` may arrive pre-filled (a P-tuning prefix): the prompt then attends to it and is numbered after it.
std::vector<int32_t> generate(const Transformer& model, const std::vector<int32_t>& prompt,
                              const SamplingOptions& options,
                              const std::function<void(int32_t)>& on_token = {}, KvCache* cache = nullptr);

// Turns a growing token sequence into text increments that are safe to print: decodes everything so far
// and emits the new suffix, holding back a trailing incomplete UTF-8 character (decoded as U+FFFD).
class TextStream {
 public:
  explicit TextStream(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}
  std::string push(int32_t token);   // the printable new text, possibly empty
  std::string finish();              // whatever is left

 private:
  const Tokenizer& tokenizer_;
  std::vector<int32_t> tokens_;
  size_t printed_ = 0;
};

}  // namespace sg::model
