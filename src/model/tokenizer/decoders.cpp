#include "model/tokenizer/decoders.h"

#include "model/tokenizer/byte_level.h"
#include "model/tokenizer/json_node.h"
#include "model/tokenizer/regex.h"
#include "model/tokenizer/utf8.h"

namespace sg::model {
namespace {

// "<0x0A>" -> 0x0A, as Hugging Face's ByteFallback decoder recognises byte tokens.
std::optional<unsigned char> byte_token(std::string_view token) {
  if (token.size() != 6 || token.substr(0, 3) != "<0x" || token[5] != '>') return std::nullopt;
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  const int hi = hex(token[3]), lo = hex(token[4]);
  if (hi < 0 || lo < 0) return std::nullopt;
  return static_cast<unsigned char>(hi * 16 + lo);
}

Decoder byte_level_decoder() {
  return [](std::vector<std::string>& tokens) {
    std::string bytes;
    for (const std::string& token : tokens) bytes += byte_level::decode(token).value_or(token);
    tokens = {utf8::decode_lossy(bytes)};
  };
}

Decoder regex_replace_decoder(Regex regex, std::string content) {
  return [regex = std::move(regex), content = std::move(content)](std::vector<std::string>& tokens) {
    for (std::string& token : tokens) token = regex.replace_all(token, content);
  };
}

// Metaspace decoder: the replacement becomes a space, except in the first token where (unless the
// prepend scheme is "never") every replacement character is dropped.
Decoder metaspace_decoder(const JsonNode& node) {
  const std::string replacement = node.string_at("replacement");
  bool drop_in_first = node.bool_or("add_prefix_space", true);
  if (const auto scheme = node.find("prepend_scheme")) drop_in_first = drop_in_first && scheme->as_string() != "never";
  return [replacement, drop_in_first](std::vector<std::string>& tokens) {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& token = tokens[i];
      for (size_t pos = 0; pos < token.size();) {
        if (token.compare(pos, replacement.size(), replacement) == 0) {
          if (i != 0 || !drop_in_first) out += ' ';
          pos += replacement.size();
        } else {
          out += token[pos++];
        }
      }
      tokens[i] = std::move(out);
    }
  };
}

char32_t single_char(const JsonNode& node) {
  const std::string s = node.as_string();
  size_t pos = 0;
  const char32_t c = s.empty() ? 0 : utf8::next_code_point(s, pos);
  if (s.empty() || pos != s.size()) node.fail("must be a single character");
  return c;
}

}  // namespace

Decoder replace_decoder(std::string from, std::string to) {
  return regex_replace_decoder(Regex(from, Regex::Syntax::kLiteral, "Replace"), std::move(to));
}

Decoder byte_fallback_decoder() {
  return [](std::vector<std::string>& tokens) {
    std::vector<std::string> out;
    std::string pending;  // bytes of the current run of byte tokens
    size_t pending_count = 0;
    auto flush = [&] {
      if (pending_count == 0) return;
      if (utf8::is_valid(pending)) {
        out.push_back(pending);
      } else {
        for (size_t i = 0; i < pending_count; ++i) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
      pending_count = 0;
    };
    for (std::string& token : tokens) {
      if (const auto b = byte_token(token)) {
        pending += static_cast<char>(*b);
        ++pending_count;
      } else {
        flush();
        out.push_back(std::move(token));
      }
    }
    flush();
    tokens = std::move(out);
  };
}

Decoder fuse_decoder() {
  return [](std::vector<std::string>& tokens) {
    std::string joined;
    for (const std::string& token : tokens) joined += token;
    tokens = {std::move(joined)};
  };
}

Decoder strip_decoder(char32_t content, size_t start, size_t stop) {
  return [content, start, stop](std::vector<std::string>& tokens) {
    for (std::string& token : tokens) {
      std::vector<std::pair<char32_t, size_t>> chars;  // (code point, byte offset)
      for (size_t pos = 0; pos < token.size();) {
        const size_t at = pos;
        chars.emplace_back(utf8::next_code_point(token, pos), at);
      }
      size_t first = 0, last = chars.size();
      while (first < start && first < chars.size() && chars[first].first == content) ++first;
      for (size_t i = 0; i < stop && last > first && chars[last - 1].first == content; ++i) --last;
      const size_t begin = first < chars.size() ? chars[first].second : token.size();
      const size_t end = last < chars.size() ? chars[last].second : token.size();
      token = token.substr(begin, end - begin);
    }
  };
}

Decoder sequence_decoder(std::vector<Decoder> steps) {
  return [steps = std::move(steps)](std::vector<std::string>& tokens) {
    for (const Decoder& step : steps) step(tokens);
  };
}

std::string run_decoder(const Decoder& decoder, std::vector<std::string> tokens) {
  decoder(tokens);
  std::string text;
  for (const std::string& token : tokens) text += token;
  return text;
}

Decoder parse_decoder(const JsonNode& node) {
  const std::string type = node.type();
  if (type == "ByteLevel") return byte_level_decoder();
  if (type == "ByteFallback") return byte_fallback_decoder();
  if (type == "Fuse") return fuse_decoder();
  if (type == "Metaspace") return metaspace_decoder(node);
  if (type == "Replace") return regex_replace_decoder(regex_from_pattern(node.at("pattern")), node.string_at("content"));
  if (type == "Strip") {
    return strip_decoder(single_char(node.at("content")), static_cast<size_t>(node.at("start").as_int()),
                         static_cast<size_t>(node.at("stop").as_int()));
  }
  if (type == "Sequence") {
    const JsonNode list = node.at("decoders");
    std::vector<Decoder> steps;
    for (size_t i = 0; i < list.size(); ++i) steps.push_back(parse_decoder(list.at(i)));
    return sequence_decoder(std::move(steps));
  }
  node.unsupported_type();
}

}  // namespace sg::model
