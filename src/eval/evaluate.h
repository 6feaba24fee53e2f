// Evaluation: classification by each label's log-likelihood (no parsing of free text), exact match for
// generation, perplexity of the reference responses for both.
#pragma once

#include <nlohmann/json.hpp>

#include <ATen/core/Tensor.h>

#include <functional>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace sg::model {
class Transformer;
class Tokenizer;
}  // namespace sg::model
namespace sg::peft {
struct AdapterSet;
}

namespace sg::eval {

struct EvalOptions {
  size_t max_tokens = 256;
  int max_new_tokens = 24;   // generation tasks
  int limit = 0;             // evaluate only the first N examples (0 = all)
};

struct EvalResult {
  std::string metric;   // "accuracy" | "exact_match"
  double score = 0;     // in [0, 1]
  double perplexity = 0;
  int examples = 0;
  nlohmann::json to_json() const;
};

// What the harness needs of a model, wherever it runs (one process, or split between a client and an enclave).
struct Scorer {
  // Logits (B,T,V) of a right-padded batch.
  std::function<at::Tensor(const at::Tensor& input_ids, const at::Tensor& attention_mask)> logits;
  // Greedy continuation of `prompt`: at most max_new_tokens, ending after a token of `stop` when one is made.
  std::function<std::vector<int32_t>(const std::vector<int32_t>& prompt, int max_new_tokens,
                                     const std::vector<int32_t>& stop)> greedy;
};

// A local model with its adapters (may be empty: zero-shot); generation uses the KV cache.
Scorer local_scorer(const model::Transformer& model, const peft::AdapterSet& adapters);

EvalResult evaluate(const Scorer& scorer, const model::Tokenizer& tokenizer, const data::Dataset& dataset,
                    const EvalOptions& options);
// `adapters` may be empty (zero-shot base model).
EvalResult evaluate(const model::Transformer& model, const peft::AdapterSet& adapters,
                    const model::Tokenizer& tokenizer, const data::Dataset& dataset, const EvalOptions& options);

}  // namespace sg::eval
