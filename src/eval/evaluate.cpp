#include "eval/evaluate.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "model/generation.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "peft/adapter_files.h"

namespace sg::eval {
namespace {

// Per-sequence summed log-likelihood of the labelled tokens, and their count: (B,) each.
std::pair<at::Tensor, at::Tensor> response_log_likelihood(const at::Tensor& logits, const at::Tensor& labels) {
  const int64_t T = logits.size(1);
  // In float32 at least, as the training loss: a bf16 model's logits would round the log-likelihoods.
  auto log_probs = logits.narrow(1, 0, T - 1).log_softmax(-1, at::promote_types(logits.scalar_type(), at::kFloat));
  auto targets = labels.narrow(1, 1, T - 1);
  auto counted = targets != -100;
  auto picked = log_probs.gather(-1, targets.clamp_min(0).unsqueeze(-1)).squeeze(-1);
  return {(picked * counted).sum(1), counted.sum(1)};
}

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

}  // namespace

nlohmann::json EvalResult::to_json() const {
  return {{"metric", metric}, {"score", score}, {"perplexity", perplexity}, {"examples", examples}};
}

Scorer local_scorer(const model::Transformer& model, const peft::AdapterSet& adapters) {
  Scorer scorer;
  scorer.logits = [&model, &adapters](const at::Tensor& ids, const at::Tensor& mask) {
    return adapters.logits(model, ids, mask);
  };
  scorer.greedy = [&model, &adapters](const std::vector<int32_t>& prompt, int max_new_tokens,
                                      const std::vector<int32_t>& stop) {
    model::SamplingOptions greedy;
    greedy.max_new_tokens = max_new_tokens;
    greedy.stop_tokens = stop;
    model::KvCache cache = adapters.prefix ? adapters.prefix->initial_cache(1) : model::KvCache{};
    return model::generate(model, prompt, greedy, {}, &cache);
  };
  return scorer;
}

EvalResult evaluate(const model::Transformer& model, const peft::AdapterSet& adapters,
                    const model::Tokenizer& tokenizer, const data::Dataset& dataset, const EvalOptions& options) {
  return evaluate(local_scorer(model, adapters), tokenizer, dataset, options);
}

EvalResult evaluate(const Scorer& scorer, const model::Tokenizer& tokenizer, const data::Dataset& dataset,
                    const EvalOptions& options) {
  torch::NoGradGuard no_grad;
  const int32_t pad = tokenizer.pad_id().value_or(tokenizer.eos_id().value_or(0));
  EvalResult result;
  result.metric = dataset.classification ? "accuracy" : "exact_match";
  double nll = 0;
  int64_t nll_tokens = 0;
  int correct = 0;
  const size_t n = options.limit > 0 ? std::min<size_t>(options.limit, dataset.examples.size()) : dataset.examples.size();
  for (size_t i = 0; i < n; ++i) {
    const auto& example = dataset.examples[i];
    if (dataset.classification) {
      // One sequence per candidate label; the reference label's sequence also gives the perplexity.
      std::vector<data::EncodedExample> candidates;
      size_t reference = 0;
      for (size_t k = 0; k < dataset.labels.size(); ++k) {
        const std::string response = " " + dataset.labels[k];
        if (response == example.response) reference = k;
        candidates.push_back(data::encode_example(tokenizer, example.prompt, response, options.max_tokens));
      }
      auto batch = data::collate(candidates, pad);
      auto [ll, count] = response_log_likelihood(scorer.logits(batch.input_ids, batch.attention_mask), batch.labels);
      if (ll.argmax().item<int64_t>() == int64_t(reference)) ++correct;
      nll -= ll[reference].item<double>();
      nll_tokens += count[reference].item<int64_t>();
    } else {
      auto encoded = data::encode_example(tokenizer, example.prompt, example.response, options.max_tokens);
      auto batch = data::collate({encoded}, pad);
      auto [ll, count] = response_log_likelihood(scorer.logits(batch.input_ids, batch.attention_mask), batch.labels);
      nll -= ll[0].item<double>();
      nll_tokens += count[0].item<int64_t>();
      std::vector<int32_t> prompt(encoded.ids.begin(), encoded.ids.begin() + encoded.prompt_tokens);
      std::vector<int32_t> stop;
      if (auto eos = tokenizer.eos_id()) stop = {*eos};
      auto produced = scorer.greedy(prompt, options.max_new_tokens, stop);
      if (!produced.empty() && tokenizer.eos_id() && produced.back() == *tokenizer.eos_id()) produced.pop_back();
      if (trim(tokenizer.decode(produced, /*skip_special_tokens=*/true)) == trim(example.response)) ++correct;
    }
  }
  result.examples = int(n);
  result.score = n ? double(correct) / n : 0;
  result.perplexity = nll_tokens ? std::exp(nll / nll_tokens) : 0;
  return result;
}

}  // namespace sg::eval
