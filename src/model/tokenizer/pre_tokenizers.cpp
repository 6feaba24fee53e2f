#include "model/tokenizer/pre_tokenizers.h"

#include "model/tokenizer/byte_level.h"
#include "model/tokenizer/json_node.h"
#include "model/tokenizer/regex.h"

namespace sg::model {
namespace {

// GPT-2's pre-tokenization regex, which ByteLevel applies when use_regex is true.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// SplitDelimiterBehavior::Isolated: every match and every gap between matches becomes its own piece.
void split_isolated(const Regex& regex, std::vector<PreToken>& tokens) {
  std::vector<PreToken> out;
  for (const PreToken& token : tokens) {
    size_t last = 0;
    auto emit = [&](size_t begin, size_t end) {
      if (end > begin) out.push_back({token.text.substr(begin, end - begin), token.at_input_start && begin == 0});
    };
    for (const auto& [begin, end] : regex.find_all(token.text)) {
      emit(last, begin);
      emit(begin, end);
      last = end;
    }
    emit(last, token.text.size());
  }
  tokens = std::move(out);
}

PreTokenizer byte_level_pre_tokenizer(const JsonNode& node) {
  const bool add_prefix_space = node.bool_or("add_prefix_space", true);
  const bool use_regex = node.bool_or("use_regex", true);
  return [add_prefix_space, use_regex](std::vector<PreToken>& tokens) {
    if (add_prefix_space) {
      for (PreToken& token : tokens) {
        if (token.text.empty() || token.text[0] != ' ') token.text.insert(0, 1, ' ');
      }
    }
    if (use_regex) {
      static const Regex gpt2(kGpt2Pattern, Regex::Syntax::kPattern, "ByteLevel");
      split_isolated(gpt2, tokens);
    }
    for (PreToken& token : tokens) token.text = byte_level::encode(token.text);
  };
}

PreTokenizer split_pre_tokenizer(const JsonNode& node) {
  const JsonNode behavior = node.at("behavior");
  if (behavior.as_string() != "Isolated") behavior.fail("'" + behavior.as_string() + "' is not supported (only Isolated)");
  const JsonNode invert = node.at("invert");
  if (invert.as_bool()) invert.fail("true is not supported");
  return [regex = regex_from_pattern(node.at("pattern"))](std::vector<PreToken>& tokens) {
    split_isolated(regex, tokens);
  };
}

PreTokenizer metaspace_pre_tokenizer(const JsonNode& node) {
  enum class Prepend { kAlways, kFirst, kNever };
  const std::string replacement = node.string_at("replacement");
  Prepend prepend = Prepend::kAlways;
  if (const auto scheme = node.find("prepend_scheme")) {
    const std::string s = scheme->as_string();
    if (s == "first") prepend = Prepend::kFirst;
    else if (s == "never") prepend = Prepend::kNever;
    else if (s != "always") scheme->fail("'" + s + "' is not one of always/first/never");
  }
  if (!node.bool_or("add_prefix_space", true)) prepend = Prepend::kNever;  // files written before prepend_scheme
  const bool split = node.bool_or("split", true);
  const Regex space(" ", Regex::Syntax::kLiteral, node.where());
  return [=](std::vector<PreToken>& tokens) {
    std::vector<PreToken> out;
    for (PreToken& token : tokens) {
      std::string text = space.replace_all(token.text, replacement);
      const bool starts_with_replacement = text.compare(0, replacement.size(), replacement) == 0;
      if (!starts_with_replacement &&
          (prepend == Prepend::kAlways || (prepend == Prepend::kFirst && token.at_input_start))) {
        text.insert(0, replacement);
      }
      if (!split) {
        out.push_back({std::move(text), token.at_input_start});
        continue;
      }
      // MergedWithNext on the replacement: a new piece starts before every occurrence.
      size_t begin = 0;
      for (size_t at = text.find(replacement, 1); at != std::string::npos; at = text.find(replacement, at + 1)) {
        out.push_back({text.substr(begin, at - begin), token.at_input_start && begin == 0});
        begin = at;
      }
      out.push_back({text.substr(begin), token.at_input_start && begin == 0});
    }
    tokens = std::move(out);
  };
}

}  // namespace

PreTokenizer parse_pre_tokenizer(const JsonNode& node) {
  const std::string type = node.type();
  if (type == "ByteLevel") return byte_level_pre_tokenizer(node);
  if (type == "Split") return split_pre_tokenizer(node);
  if (type == "Metaspace") return metaspace_pre_tokenizer(node);
  if (type == "Sequence") {
    const JsonNode list = node.at("pretokenizers");
    std::vector<PreTokenizer> steps;
    for (size_t i = 0; i < list.size(); ++i) steps.push_back(parse_pre_tokenizer(list.at(i)));
    return [steps](std::vector<PreToken>& tokens) {
      for (const auto& step : steps) step(tokens);
    };
  }
  node.unsupported_type();
}

}  // namespace sg::model
