#include "data/dataset.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "model/tokenizer/tokenizer.h"

namespace sg::data {
namespace {

using nlohmann::json;

std::string string_field(const json& row, const std::string& field, const std::string& where, bool required) {
  if (!row.contains(field)) {
    if (required) throw DatasetError(where + ": field '" + field + "': missing");
    return {};
  }
  if (!row[field].is_string()) throw DatasetError(where + ": field '" + field + "': expected a string, got " + row[field].dump());
  return row[field].get<std::string>();
}

std::vector<std::string> labels_from_task_file(const std::filesystem::path& data_path) {
  const auto task_file = data_path.parent_path() / "task.json";
  if (!std::filesystem::exists(task_file)) return {};
  std::ifstream in(task_file);
  json meta = json::parse(in, nullptr, false);
  if (meta.is_discarded() || !meta.is_object())
    throw DatasetError(task_file.string() + ": not a JSON object");
  if (!meta.contains("labels")) return {};
  if (!meta["labels"].is_array()) throw DatasetError(task_file.string() + ": field 'labels': expected an array of strings");
  return meta["labels"].get<std::vector<std::string>>();
}

}  // namespace

std::string alpaca_prompt(const std::string& instruction, const std::string& input) {
  std::string p = "### Instruction:\n" + instruction + "\n\n";
  if (!input.empty()) p += "### Input:\n" + input + "\n\n";
  return p + "### Response:\n";
}

std::string classification_prompt(const std::string& text) { return text + "\nAnswer:"; }

Dataset load_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DatasetError(path + ": cannot open");
  Dataset d;
  d.path = path;
  std::vector<std::string> seen_labels;
  std::string line;
  int kind = -1;   // 0 = instruction, 1 = classification
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(number);
    json row = json::parse(line, nullptr, false);
    if (row.is_discarded()) throw DatasetError(where + ": not valid JSON");
    if (!row.is_object()) throw DatasetError(where + ": expected a JSON object");
    const int this_kind = row.contains("text") ? 1 : 0;
    if (kind >= 0 && kind != this_kind)
      throw DatasetError(where + ": mixes classification ({\"text\",\"label\"}) and instruction lines");
    kind = this_kind;
    if (this_kind == 1) {
      auto label = string_field(row, "label", where, true);
      d.examples.push_back({classification_prompt(string_field(row, "text", where, true)), " " + label});
      if (std::find(seen_labels.begin(), seen_labels.end(), label) == seen_labels.end()) seen_labels.push_back(label);
    } else {
      d.examples.push_back({alpaca_prompt(string_field(row, "instruction", where, true),
                                          string_field(row, "input", where, false)),
                            string_field(row, "output", where, true)});
    }
  }
  if (d.examples.empty()) throw DatasetError(path + ": no examples");
  d.classification = kind == 1;
  if (d.classification) {
    d.labels = labels_from_task_file(path);
    if (d.labels.empty()) d.labels = seen_labels;
    for (const auto& label : seen_labels)
      if (std::find(d.labels.begin(), d.labels.end(), label) == d.labels.end())
        throw DatasetError(path + ": label '" + label + "' is not in the task's label set");
  }
  return d;
}

EncodedExample encode_example(const model::Tokenizer& tokenizer, const std::string& prompt,
                              const std::string& response, size_t max_tokens) {
  EncodedExample e;
  e.ids = tokenizer.encode(prompt, /*add_special_tokens=*/true);
  e.prompt_tokens = e.ids.size();
  auto answer = tokenizer.encode(response, /*add_special_tokens=*/false);
  e.ids.insert(e.ids.end(), answer.begin(), answer.end());
  if (auto eos = tokenizer.eos_id()) e.ids.push_back(*eos);
  if (e.ids.size() > max_tokens) {   // keep the response: drop the oldest prompt tokens
    const size_t drop = e.ids.size() - max_tokens;
    e.ids.erase(e.ids.begin(), e.ids.begin() + drop);
    e.prompt_tokens = e.prompt_tokens > drop ? e.prompt_tokens - drop : 0;
  }
  return e;
}

int64_t Batch::tokens() const { return attention_mask.sum().item<int64_t>(); }

Batch collate(const std::vector<EncodedExample>& examples, int32_t pad_id) {
  size_t longest = 0;
  for (const auto& e : examples) longest = std::max(longest, e.ids.size());
  const auto B = int64_t(examples.size()), T = int64_t(longest);
  Batch b;
  b.input_ids = torch::full({B, T}, int64_t(pad_id), torch::kInt64);
  b.attention_mask = torch::zeros({B, T}, torch::kInt64);
  b.labels = torch::full({B, T}, int64_t(-100), torch::kInt64);
  auto ids = b.input_ids.accessor<int64_t, 2>();
  auto mask = b.attention_mask.accessor<int64_t, 2>();
  auto labels = b.labels.accessor<int64_t, 2>();
  for (int64_t i = 0; i < B; ++i) {
    const auto& e = examples[i];
    for (size_t t = 0; t < e.ids.size(); ++t) {
      ids[i][t] = e.ids[t];
      mask[i][t] = 1;
      if (t >= e.prompt_tokens) labels[i][t] = e.ids[t];
    }
  }
  return b;
}

std::vector<Batch> make_batches(const Dataset& dataset, const model::Tokenizer& tokenizer, const BatchOptions& o) {
  std::vector<EncodedExample> encoded;
  encoded.reserve(dataset.examples.size());
  for (const auto& e : dataset.examples) encoded.push_back(encode_example(tokenizer, e.prompt, e.response, o.max_tokens));
  std::vector<size_t> order(encoded.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::mt19937_64 rng(o.seed);
  if (o.shuffle) std::shuffle(order.begin(), order.end(), rng);
  if (o.bucket_by_length)
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return encoded[a].ids.size() < encoded[b].ids.size(); });
  const int32_t pad = tokenizer.pad_id().value_or(tokenizer.eos_id().value_or(0));
  std::vector<Batch> batches;
  for (size_t start = 0; start < order.size(); start += o.batch_size) {
    std::vector<EncodedExample> group;
    for (size_t i = start; i < std::min(order.size(), start + o.batch_size); ++i) group.push_back(encoded[order[i]]);
    batches.push_back(collate(group, pad));
  }
  if (o.shuffle) std::shuffle(batches.begin(), batches.end(), rng);
  return batches;
}

}  // namespace sg::data
