#include "model/generation.h"

#include <torch/torch.h>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>

#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"

namespace sg::model {

namespace {

// HF's logits processors in the order `generate` applies them: temperature, top-k, top-p.
int32_t sample(at::Tensor logits, const SamplingOptions& o, at::Generator& generator) {
  if (o.temperature <= 0.0) return int32_t(logits.argmax(-1).item<int64_t>());
  logits = logits.to(at::promote_types(logits.scalar_type(), at::kFloat)) / o.temperature;   // bf16 models too
  const float lowest = -std::numeric_limits<float>::infinity();
  if (o.top_k > 0 && o.top_k < logits.size(-1)) {
    auto kth = std::get<0>(logits.topk(o.top_k)).index({-1});
    logits = logits.masked_fill(logits < kth, lowest);
  }
  if (o.top_p < 1.0) {
    auto [sorted, order] = logits.sort(/*dim=*/-1, /*descending=*/false);
    auto cumulative = sorted.softmax(-1).cumsum(-1);
    auto drop_sorted = cumulative <= (1.0 - o.top_p);
    drop_sorted.index_put_({-1}, false);   // always keep the most likely token
    auto drop = torch::zeros_like(drop_sorted).scatter(0, order, drop_sorted);
    logits = logits.masked_fill(drop, lowest);
  }
  auto probs = logits.softmax(-1);
  return int32_t(torch::multinomial(probs, 1, /*replacement=*/false, generator).item<int64_t>());
}

}  // namespace

std::vector<int32_t> generate(const NextTokenLogits& next_logits, const std::vector<int32_t>& prompt,
                              const SamplingOptions& options, const std::function<void(int32_t)>& on_token,
                              int64_t past) {
  if (prompt.empty()) throw std::invalid_argument("generate: the prompt has no tokens");
  torch::NoGradGuard no_grad;
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  std::vector<int32_t> produced;
  auto input = torch::tensor(std::vector<int64_t>(prompt.begin(), prompt.end()), torch::kInt64).unsqueeze(0);
  for (int step = 0; step < options.max_new_tokens; ++step) {
    auto logits = next_logits(input, past);   // (V)
    past += input.size(1);
    const int32_t next = sample(logits, options, generator);
    produced.push_back(next);
    if (on_token) on_token(next);
    if (std::find(options.stop_tokens.begin(), options.stop_tokens.end(), next) != options.stop_tokens.end()) break;
    input = torch::full({1, 1}, int64_t(next), torch::kInt64);
  }
  return produced;
}

std::vector<int32_t> generate(const Transformer& model, const std::vector<int32_t>& prompt,
                              const SamplingOptions& options, const std::function<void(int32_t)>& on_token,
                              KvCache* cache) {
  KvCache own_cache;
  if (!cache) cache = &own_cache;
  auto next_logits = [&](const at::Tensor& input, int64_t past) {
    auto ctx = ForwardContext::for_tokens(input, {}, cache, past);
    return model.forward(input, ctx)[0][-1];
  };
  return generate(next_logits, prompt, options, on_token, cache->length(model.slice().first_layer));
}

namespace {
constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";
}

std::string TextStream::push(int32_t token) {
  tokens_.push_back(token);
  std::string text = tokenizer_.decode(tokens_, /*skip_special_tokens=*/true);
  if (text.size() >= kReplacementChar.size() &&
      text.compare(text.size() - kReplacementChar.size(), kReplacementChar.size(), kReplacementChar) == 0)
    return {};   // an incomplete UTF-8 sequence so far: wait for its remaining bytes
  if (text.size() <= printed_) return {};
  std::string fresh = text.substr(printed_);
  printed_ = text.size();
  return fresh;
}

std::string TextStream::finish() {
  std::string text = tokenizer_.decode(tokens_, /*skip_special_tokens=*/true);
  std::string rest = text.size() > printed_ ? text.substr(printed_) : std::string();
  printed_ = text.size();
  return rest;
}

}  // namespace sg::model
