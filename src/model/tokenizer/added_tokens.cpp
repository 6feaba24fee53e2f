#include "model/tokenizer/added_tokens.h"

#include <algorithm>

#include "model/tokenizer/regex.h"

namespace sg::model {
namespace {

// The tests Hugging Face runs with the Rust `regex` crate for lstrip/rstrip/single_word (Unicode \w, \s).
struct WordRules {
  Regex ends_with_word{R"(\w\z)", Regex::Syntax::kPattern, "added tokens"};
  Regex starts_with_word{R"(\A\w)", Regex::Syntax::kPattern, "added tokens"};
  Regex trailing_space{R"(\s+\z)", Regex::Syntax::kPattern, "added tokens"};
  Regex leading_space{R"(\A\s+)", Regex::Syntax::kPattern, "added tokens"};
};

const WordRules& rules() {
  static const WordRules r;
  return r;
}

}  // namespace

AddedVocabulary::AddedVocabulary(std::vector<AddedToken> tokens, const Normalizer& normalizer)
    : tokens_(std::move(tokens)) {
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    index_of_id_[t.id] = i;
    index_of_content_[t.content] = i;
    if (!t.normalized) add(raw_patterns_, t.content, i);
    else add(normalized_patterns_, normalizer ? normalizer(t.content) : t.content, i);
  }
}

const AddedToken* AddedVocabulary::by_id(int32_t id) const {
  const auto it = index_of_id_.find(id);
  return it == index_of_id_.end() ? nullptr : &tokens_[it->second];
}

const AddedToken* AddedVocabulary::by_content(std::string_view content) const {
  const auto it = index_of_content_.find(std::string(content));
  return it == index_of_content_.end() ? nullptr : &tokens_[it->second];
}

void AddedVocabulary::add(PatternSet& set, std::string text, size_t token) {
  if (text.empty()) return;
  const auto first = static_cast<unsigned char>(text[0]);
  set[first].push_back({std::move(text), token});
}

const AddedVocabulary::Pattern* AddedVocabulary::longest_at(std::string_view text, size_t pos,
                                                            const PatternSet& patterns) {
  const Pattern* best = nullptr;
  for (const Pattern& p : patterns[static_cast<unsigned char>(text[pos])]) {
    if ((!best || p.text.size() > best->text.size()) && text.compare(pos, p.text.size(), p.text) == 0) best = &p;
  }
  return best;
}

std::vector<Segment> AddedVocabulary::find(std::string_view text, bool at_input_start,
                                           const PatternSet& patterns) const {
  std::vector<Segment> out;
  auto emit_text = [&](size_t begin, size_t end) {
    if (end > begin) out.push_back({std::nullopt, std::string(text.substr(begin, end - begin)), at_input_start && begin == 0});
  };
  size_t emitted = 0;  // end of the last segment emitted
  size_t pos = 0;      // where the search for the next match resumes
  while (pos < text.size()) {
    const Pattern* best = nullptr;
    size_t start = pos;
    for (; start < text.size() && !(best = longest_at(text, start, patterns)); ++start) {
    }
    if (!best) break;
    size_t stop = start + best->text.size();
    pos = stop;
    const AddedToken& token = tokens_[best->token];
    if (token.single_word &&
        (!rules().ends_with_word.find_all(text.substr(0, start)).empty() ||
         !rules().starts_with_word.find_all(text.substr(stop)).empty())) {
      continue;
    }
    if (token.lstrip) {
      const auto space = rules().trailing_space.find_all(text.substr(0, start));
      if (!space.empty()) start = std::max(space.back().first, emitted);
    }
    if (token.rstrip) {
      const auto space = rules().leading_space.find_all(text.substr(stop));
      if (!space.empty()) stop += space.front().second;
    }
    emit_text(emitted, start);
    out.push_back({token.id, std::string(), false});
    emitted = stop;
  }
  emit_text(emitted, text.size());
  return out;
}

std::vector<Segment> AddedVocabulary::split(std::string_view text, const Normalizer& normalizer) const {
  std::vector<Segment> out;
  for (Segment& raw : find(text, true, raw_patterns_)) {
    if (raw.id) {
      out.push_back(std::move(raw));
      continue;
    }
    const std::string normalized = normalizer ? normalizer(raw.text) : raw.text;
    for (Segment& piece : find(normalized, raw.at_input_start, normalized_patterns_)) out.push_back(std::move(piece));
  }
  return out;
}

}  // namespace sg::model
