// tokenizer.json `post_processor` for single sequences: TemplateProcessing ("<s> $A </s>"), ByteLevel (ids
// unchanged), Sequence of those, or null. Reduced to the ids put before and after the sequence.
#pragma once

#include <cstdint>
#include <vector>

namespace sg::model {

class JsonNode;

struct PostProcessor {
  std::vector<int32_t> before;
  std::vector<int32_t> after;

  void apply(std::vector<int32_t>& ids) const;
};

// Throws TokenizerError naming the field for other types (BertProcessing, RobertaProcessing, ...) or a
// `single` template that is not "specials $A specials".
PostProcessor parse_post_processor(const JsonNode& node);

}  // namespace sg::model
