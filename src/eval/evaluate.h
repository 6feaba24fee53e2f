// Evaluation: classification by each label's log-likelihood (no parsing of free text), exact match for
// generation, perplexity of the reference responses for both.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

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

// `adapters` may be empty (zero-shot base model).
EvalResult evaluate(const model::Transformer& model, const peft::AdapterSet& adapters,
                    const model::Tokenizer& tokenizer, const data::Dataset& dataset, const EvalOptions& options);

}  // namespace sg::eval
