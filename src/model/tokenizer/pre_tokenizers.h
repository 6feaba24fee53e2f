// tokenizer.json `pre_tokenizer`: ByteLevel, Split (Isolated), Metaspace, Sequence.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace sg::model {

class JsonNode;

struct PreToken {
  std::string text;
  // Starts at offset 0 of the caller's input (Metaspace prepend_scheme "first" prepends only there).
  bool at_input_start = false;
};

// Splits (and may rewrite) each pre-token in place; the BPE model then runs on every resulting piece.
using PreTokenizer = std::function<void(std::vector<PreToken>&)>;

// Throws TokenizerError naming the field for any other pre-tokenizer type or option.
PreTokenizer parse_pre_tokenizer(const JsonNode& node);

}  // namespace sg::model
