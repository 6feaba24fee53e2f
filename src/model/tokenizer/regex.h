// PCRE2 (UTF + UCP, JIT when available) behind a small interface: the regexes of tokenizer.json files need
// lookahead and Unicode properties (\p{L}, \p{N}), which std::regex lacks.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sg::model {

class JsonNode;

class Regex {
 public:
  enum class Syntax { kPattern, kLiteral };
  // Throws TokenizerError prefixed with `where` when the pattern does not compile.
  Regex(std::string_view pattern, Syntax syntax, const std::string& where);

  // Non-empty, non-overlapping matches, left to right, as [begin, end) byte offsets. `text` must be valid UTF-8.
  std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

  // Every match replaced by `content`.
  std::string replace_all(std::string_view text, std::string_view content) const;

 private:
  struct Code;
  std::shared_ptr<const Code> code_;
};

// The `pattern` object of Split / Replace components: {"String": "..."} (matched literally) or {"Regex": "..."}.
Regex regex_from_pattern(const JsonNode& pattern);

}  // namespace sg::model
