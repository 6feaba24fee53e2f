#include "model/tokenizer/bpe_model.h"

#include <cstdio>
#include <queue>

#include "model/tokenizer/json_node.h"
#include "model/tokenizer/utf8.h"

namespace sg::model {
namespace {

// An optional string option that we only support when absent, null or empty.
void require_unset(const JsonNode& node, const std::string& key) {
  const auto value = node.find(key);
  if (value && !(value->value().is_string() && value->as_string().empty())) value->fail("is not supported (must be null)");
}

std::pair<std::string, std::string> merge_parts(const JsonNode& merge) {
  if (merge.value().is_array()) {
    if (merge.size() != 2) merge.fail("must be a pair");
    return {merge.at(0).as_string(), merge.at(1).as_string()};
  }
  const std::string line = merge.as_string();
  const size_t space = line.find(' ');
  if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
    merge.fail("'" + line + "' must be two tokens separated by one space");
  }
  return {line.substr(0, space), line.substr(space + 1)};
}

}  // namespace

BpeModel::BpeModel(const JsonNode& node) {
  if (const auto dropout = node.find("dropout"); dropout && dropout->value().get<double>() != 0.0) {
    dropout->fail("is not supported (must be null: encoding would be random)");
  }
  require_unset(node, "continuing_subword_prefix");
  require_unset(node, "end_of_word_suffix");
  fuse_unk_ = node.bool_or("fuse_unk", false);
  byte_fallback_ = node.bool_or("byte_fallback", false);
  ignore_merges_ = node.bool_or("ignore_merges", false);

  const JsonNode vocab = node.at("vocab");
  if (!vocab.value().is_object()) vocab.fail("is not an object");
  for (const auto& [token, id_value] : vocab.value().items()) {
    const auto id = static_cast<int32_t>(JsonNode(id_value, vocab.file(), "model.vocab[\"" + token + "\"]").as_int());
    vocab_[token] = id;
    vocab_r_[id] = token;
    max_id_ = std::max(max_id_, id);
  }
  if (const auto unk = node.find("unk_token")) {
    const auto id = token_to_id(unk->as_string());
    if (!id) unk->fail("'" + unk->as_string() + "' is not in model.vocab");
    unk_id_ = *id;
  }

  const JsonNode merges = node.at("merges");
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const JsonNode merge = merges.at(rank);
    const auto [left, right] = merge_parts(merge);
    const auto left_id = token_to_id(left), right_id = token_to_id(right), new_id = token_to_id(left + right);
    if (!left_id || !right_id || !new_id) merge.fail("refers to a token that is not in model.vocab");
    merges_[pair_key(*left_id, *right_id)] = {static_cast<int32_t>(rank), *new_id};
  }
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  const auto it = vocab_.find(std::string(token));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  const auto it = vocab_r_.find(id);
  return it == vocab_r_.end() ? nullptr : &it->second;
}

void BpeModel::tokenize(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    if (const auto id = token_to_id(word)) {
      ids.push_back(*id);
      return;
    }
  }
  if (word.size() > kCacheMaxWordBytes) {
    const std::vector<int32_t> word_ids = merge_word(word);
    ids.insert(ids.end(), word_ids.begin(), word_ids.end());
    return;
  }
  const std::string key(word);
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (const auto it = cache_.find(key); it != cache_.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> word_ids = merge_word(word);
  ids.insert(ids.end(), word_ids.begin(), word_ids.end());
  std::lock_guard<std::mutex> lock(cache_mutex_);
  if (cache_.size() < kCacheCapacity) cache_.emplace(key, std::move(word_ids));
}

std::vector<int32_t> BpeModel::merge_word(std::string_view word) const {
  // Initial symbols: one per character; unknown characters become byte tokens or (fused) unk.
  std::vector<int32_t> symbols;
  std::optional<int32_t> pending_unk;
  for (size_t pos = 0; pos < word.size();) {
    const size_t len = utf8::char_len(static_cast<unsigned char>(word[pos]));
    const std::string_view ch = word.substr(pos, len);
    pos += len;
    if (const auto id = token_to_id(ch)) {
      if (pending_unk) symbols.push_back(*std::exchange(pending_unk, std::nullopt));
      symbols.push_back(*id);
      continue;
    }
    if (byte_fallback_) {
      std::vector<int32_t> bytes;
      for (const char c : ch) {
        char name[8];
        std::snprintf(name, sizeof(name), "<0x%02X>", static_cast<unsigned char>(c));
        if (const auto id = token_to_id(name)) bytes.push_back(*id);
      }
      if (bytes.size() == ch.size()) {
        symbols.insert(symbols.end(), bytes.begin(), bytes.end());
        continue;
      }
    }
    if (unk_id_) {
      if (pending_unk && !fuse_unk_) symbols.push_back(*pending_unk);
      pending_unk = unk_id_;
    }
  }
  if (pending_unk) symbols.push_back(*pending_unk);

  // Merges, lowest rank first and leftmost among equal ranks; stale queue entries are skipped.
  struct Symbol {
    int32_t id;
    int prev, next;
    bool removed = false;
  };
  struct Candidate {
    int32_t rank;
    int pos;
    int32_t new_id;
    bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  const int n = static_cast<int>(symbols.size());
  std::vector<Symbol> sym(n);
  for (int i = 0; i < n; ++i) sym[i] = {symbols[i], i - 1, i + 1 < n ? i + 1 : -1};
  std::priority_queue<Candidate> queue;
  auto push = [&](int left) {
    if (left < 0 || sym[left].next < 0) return;
    const auto it = merges_.find(pair_key(sym[left].id, sym[sym[left].next].id));
    if (it != merges_.end()) queue.push({it->second.rank, left, it->second.new_id});
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = sym[top.pos];
    if (left.removed || left.next < 0) continue;
    const auto it = merges_.find(pair_key(left.id, sym[left.next].id));
    if (it == merges_.end() || it->second.new_id != top.new_id) continue;
    Symbol& right = sym[left.next];
    left.id = top.new_id;
    right.removed = true;
    left.next = right.next;
    if (right.next >= 0) sym[right.next].prev = top.pos;
    push(left.prev);
    push(top.pos);
  }
  std::vector<int32_t> ids;
  for (const Symbol& s : sym) {
    if (!s.removed) ids.push_back(s.id);
  }
  return ids;
}

}  // namespace sg::model
