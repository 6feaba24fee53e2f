#include "model/tokenizer/sentencepiece_bpe.h"

#include <cstdio>
#include <queue>

#include "model/tokenizer/utf8.h"

namespace sg::model {

SentencePieceBpe::SentencePieceBpe(std::vector<SentencePieceEntry> pieces, int32_t unk_id, bool byte_fallback)
    : pieces_(std::move(pieces)), unk_id_(unk_id), byte_fallback_(byte_fallback) {
  for (size_t i = 0; i < pieces_.size(); ++i) {
    id_of_piece_.emplace(pieces_[i].piece, static_cast<int32_t>(i));
    if (pieces_[i].type == SentencePieceEntry::Type::kUserDefined) user_defined_.insert(pieces_[i].piece);
  }
}

std::optional<int32_t> SentencePieceBpe::token_to_id(std::string_view token) const {
  const auto it = id_of_piece_.find(std::string(token));
  if (it == id_of_piece_.end()) return std::nullopt;
  return it->second;
}

const std::string* SentencePieceBpe::id_to_token(int32_t id) const {
  if (id < 0 || id >= static_cast<int32_t>(pieces_.size())) return nullptr;
  return &pieces_[id].piece;
}

size_t SentencePieceBpe::user_defined_prefix(std::string_view text) const {
  size_t best = 0;
  for (const std::string& piece : user_defined_) {
    if (piece.size() > best && text.substr(0, piece.size()) == piece) best = piece.size();
  }
  return best;
}

void SentencePieceBpe::emit(std::string_view symbol, std::vector<int32_t>& ids) const {
  const auto id = token_to_id(symbol);
  if (id && *id != unk_id_) {
    ids.push_back(*id);
    return;
  }
  if (!byte_fallback_) {
    ids.push_back(unk_id_);
    return;
  }
  for (const char c : symbol) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", static_cast<unsigned char>(c));
    ids.push_back(token_to_id(name).value_or(unk_id_));
  }
}

void SentencePieceBpe::tokenize(std::string_view text, std::vector<int32_t>& ids) const {
  struct Symbol {
    std::string_view piece;
    int prev, next;
    bool frozen;  // a user-defined piece: never merged
  };
  std::vector<Symbol> symbols;
  for (size_t pos = 0; pos < text.size();) {
    const size_t user = user_defined_prefix(text.substr(pos));
    const size_t len = user ? user : std::min(utf8::char_len(static_cast<unsigned char>(text[pos])), text.size() - pos);
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({text.substr(pos, len), index - 1, pos + len < text.size() ? index + 1 : -1, user > 0});
    pos += len;
  }

  struct Pair {
    float score;
    int left, right;
    size_t size;  // bytes of the merged piece, to detect stale entries
    bool operator<(const Pair& o) const { return score != o.score ? score < o.score : left > o.left; }
  };
  std::priority_queue<Pair> agenda;
  auto add_pair = [&](int left, int right) {
    if (left < 0 || right < 0 || symbols[left].frozen || symbols[right].frozen) return;
    const std::string merged(symbols[left].piece.data(), symbols[left].piece.size() + symbols[right].piece.size());
    const auto id = token_to_id(merged);
    if (!id) return;
    const auto type = pieces_[*id].type;
    if (type != SentencePieceEntry::Type::kNormal && type != SentencePieceEntry::Type::kUserDefined) return;
    agenda.push({pieces_[*id].score, left, right, merged.size()});
  };
  for (size_t i = 1; i < symbols.size(); ++i) add_pair(static_cast<int>(i) - 1, static_cast<int>(i));

  while (!agenda.empty()) {
    const Pair top = agenda.top();
    agenda.pop();
    Symbol& left = symbols[top.left];
    Symbol& right = symbols[top.right];
    if (left.piece.empty() || right.piece.empty() || left.piece.size() + right.piece.size() != top.size) continue;
    left.piece = std::string_view(left.piece.data(), top.size);
    left.next = right.next;
    if (right.next >= 0) symbols[right.next].prev = top.left;
    right.piece = {};
    add_pair(left.prev, top.left);
    add_pair(top.left, left.next);
  }

  for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) emit(symbols[i].piece, ids);
}

}  // namespace sg::model
