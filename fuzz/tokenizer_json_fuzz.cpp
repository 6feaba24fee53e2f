// libFuzzer target: arbitrary bytes as tokenizer.json. Parsing must either succeed or throw TokenizerError;
// a parsed tokenizer must round-trip a short input without crashing. Anything else (crash, other exception,
// sanitizer report) is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "model/tokenizer/json_tokenizer.h"
#include "model/tokenizer/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const auto tokenizer = sg::model::parse_json_tokenizer(bytes, "tokenizer.json", {});
    const auto ids = tokenizer->encode("Hello <s> wörld 🙂 123\n", true);
    tokenizer->decode(ids, false);
    tokenizer->decode(ids, true);
  } catch (const sg::model::TokenizerError&) {
  }
  return 0;
}
