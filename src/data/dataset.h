// JSONL datasets: Alpaca {"instruction","input","output"} or classification {"text","label"} with a label set.
// Each example becomes prompt + response; the loss covers only the response tokens.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace sg::model {
class Tokenizer;
}

namespace sg::data {

// A malformed dataset line: "<file>:<line>: field '<name>': <problem>".
struct DatasetError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Example {
  std::string prompt;     // the template filled with the example's inputs
  std::string response;   // the target text (the label for classification)
};

struct Dataset {
  std::string path;
  bool classification = false;
  std::vector<std::string> labels;   // classification: the label set
  std::vector<Example> examples;
};

// Reads a JSONL file. Classification labels come from `task.json` beside the file when present, else from
// the labels seen. Every line must have the same kind.
Dataset load_jsonl(const std::string& path);

// The prompt templates (Alpaca for instructions; "text\nAnswer:" for classification).
std::string alpaca_prompt(const std::string& instruction, const std::string& input);
std::string classification_prompt(const std::string& text);

// Token ids of one example: prompt (with the tokenizer's BOS) then response then EOS, and the number of
// prompt tokens (their positions are masked out of the loss). Truncated to `max_tokens` from the left.
struct EncodedExample {
  std::vector<int32_t> ids;
  size_t prompt_tokens = 0;
};
EncodedExample encode_example(const model::Tokenizer& tokenizer, const std::string& prompt,
                              const std::string& response, size_t max_tokens);

// (B,T) right-padded tensors: input_ids, attention_mask (1 = real), labels (-100 = no loss).
struct Batch {
  at::Tensor input_ids, attention_mask, labels;
  int64_t tokens() const;   // real tokens in the batch
};

struct BatchOptions {
  int batch_size = 8;
  size_t max_tokens = 256;
  bool bucket_by_length = true;   // group examples of similar length to waste less padding
  uint64_t seed = 0;              // shuffles the batch order (and examples within buckets)
  bool shuffle = true;
};

std::vector<Batch> make_batches(const Dataset& dataset, const model::Tokenizer& tokenizer, const BatchOptions& options);
Batch collate(const std::vector<EncodedExample>& examples, int32_t pad_id);

}  // namespace sg::data
