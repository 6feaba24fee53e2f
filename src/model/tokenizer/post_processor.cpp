#include "model/tokenizer/post_processor.h"

#include "model/tokenizer/json_node.h"

namespace sg::model {
namespace {

std::vector<int32_t> special_token_ids(const JsonNode& special_tokens, const std::string& name) {
  const auto entry = special_tokens.find(name);
  if (!entry) special_tokens.fail("has no entry for '" + name + "' used by the template");
  const JsonNode ids = entry->at("ids");
  std::vector<int32_t> out;
  for (size_t i = 0; i < ids.size(); ++i) out.push_back(static_cast<int32_t>(ids.at(i).as_int()));
  return out;
}

PostProcessor template_processing(const JsonNode& node) {
  const JsonNode single = node.at("single");
  const JsonNode special_tokens = node.at("special_tokens");
  PostProcessor out;
  bool seen_sequence = false;
  for (size_t i = 0; i < single.size(); ++i) {
    const JsonNode item = single.at(i);
    if (const auto sequence = item.find("Sequence")) {
      if (seen_sequence || sequence->string_at("id") != "A") sequence->fail("must be the only sequence, $A");
      seen_sequence = true;
    } else if (const auto special = item.find("SpecialToken")) {
      const auto ids = special_token_ids(special_tokens, special->string_at("id"));
      auto& side = seen_sequence ? out.after : out.before;
      side.insert(side.end(), ids.begin(), ids.end());
    } else {
      item.fail("must be a Sequence or a SpecialToken");
    }
  }
  if (!seen_sequence) single.fail("has no $A");
  return out;
}

}  // namespace

void PostProcessor::apply(std::vector<int32_t>& ids) const {
  ids.insert(ids.begin(), before.begin(), before.end());
  ids.insert(ids.end(), after.begin(), after.end());
}

PostProcessor parse_post_processor(const JsonNode& node) {
  const std::string type = node.type();
  if (type == "TemplateProcessing") return template_processing(node);
  if (type == "ByteLevel") return {};  // only trims offsets, which we do not produce
  if (type == "Sequence") {
    // Each processor wraps the output of the previous one.
    const JsonNode list = node.at("processors");
    PostProcessor out;
    for (size_t i = 0; i < list.size(); ++i) {
      const PostProcessor step = parse_post_processor(list.at(i));
      out.before.insert(out.before.begin(), step.before.begin(), step.before.end());
      out.after.insert(out.after.end(), step.after.begin(), step.after.end());
    }
    return out;
  }
  node.unsupported_type();
}

}  // namespace sg::model
