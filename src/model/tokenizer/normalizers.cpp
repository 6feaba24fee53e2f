#include "model/tokenizer/normalizers.h"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "model/tokenizer/json_node.h"
#include "model/tokenizer/regex.h"
#include "model/tokenizer/tokenizer.h"

namespace sg::model {
namespace {

Normalizer unicode_normalizer(int options, const std::string& where) {
  return [options, where](std::string_view text) {
    utf8proc_uint8_t* mapped = nullptr;
    const utf8proc_ssize_t len =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text.data()), static_cast<utf8proc_ssize_t>(text.size()),
                     &mapped, static_cast<utf8proc_option_t>(UTF8PROC_STABLE | options));
    if (len < 0) throw TokenizerError(where + ": " + utf8proc_errmsg(len));
    std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(mapped, &std::free);
    return std::string(reinterpret_cast<const char*>(mapped), static_cast<size_t>(len));
  };
}

}  // namespace

Normalizer parse_normalizer(const JsonNode& node) {
  const std::string type = node.type();
  if (type == "NFC") return unicode_normalizer(UTF8PROC_COMPOSE, node.where());
  if (type == "NFD") return unicode_normalizer(UTF8PROC_DECOMPOSE, node.where());
  if (type == "NFKC") return unicode_normalizer(UTF8PROC_COMPOSE | UTF8PROC_COMPAT, node.where());
  if (type == "NFKD") return unicode_normalizer(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, node.where());
  if (type == "Prepend") {
    return [prefix = node.string_at("prepend")](std::string_view text) {
      return text.empty() ? std::string() : prefix + std::string(text);
    };
  }
  if (type == "Replace") {
    return [regex = regex_from_pattern(node.at("pattern")), content = node.string_at("content")](
               std::string_view text) { return regex.replace_all(text, content); };
  }
  if (type == "Sequence") {
    const JsonNode list = node.at("normalizers");
    std::vector<Normalizer> steps;
    for (size_t i = 0; i < list.size(); ++i) steps.push_back(parse_normalizer(list.at(i)));
    return [steps](std::string_view text) {
      std::string out(text);
      for (const auto& step : steps) out = step(out);
      return out;
    };
  }
  node.unsupported_type();
}

}  // namespace sg::model
