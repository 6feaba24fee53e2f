#include "slicing/plan.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "json/strict_object.h"

namespace sg::slicing {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& field, const std::string& problem) {
  throw std::invalid_argument(source + ": field '" + field + "': " + problem);
}

}  // namespace

std::string plan_kind_name(PlanKind kind) {
  switch (kind) {
    case PlanKind::Split: return "split";
    case PlanKind::UShaped: return "u-shaped";
    case PlanKind::Federated: return "federated";
  }
  return "?";
}

SlicePlan SlicePlan::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path + ": cannot open the slice plan");
  std::stringstream text;
  text << in.rdbuf();
  return parse(text.str(), path);
}

SlicePlan SlicePlan::parse(std::string_view json_text, const std::string& source) {
  const auto j = strict::parse_object(json_text, source);
  const strict::JsonObject r(j, source);
  r.only({"kind", "cut_layer", "num_layers"});
  SlicePlan plan;
  plan.source = source;
  const std::string kinds = "expected \"split\", \"u-shaped\" or \"federated\"";
  if (!r.has("kind") || !j["kind"].is_string()) r.fail("kind", kinds);
  const auto kind = j["kind"].get<std::string>();
  if (kind == "split") plan.kind = PlanKind::Split;
  else if (kind == "u-shaped") plan.kind = PlanKind::UShaped;
  else if (kind == "federated") plan.kind = PlanKind::Federated;
  else r.fail("kind", kinds + ", got \"" + kind + "\"");

  const bool sliced = plan.kind != PlanKind::Federated;
  if (sliced) {
    if (!r.has("cut_layer") || !j["cut_layer"].is_number_integer())
      r.fail("cut_layer", "a " + kind + " plan needs an integer cut layer k (the client runs layers [0, k))");
    plan.cut_layer = j["cut_layer"].get<int>();
    if (plan.cut_layer < 1)
      r.fail("cut_layer", "must be >= 1 (the client runs at least one layer), got " + std::to_string(plan.cut_layer));
  } else if (j.contains("cut_layer")) {
    r.fail("cut_layer", "a federated plan does not cut the model");
  }
  if (j.contains("num_layers")) {
    if (!j["num_layers"].is_number_integer() || j["num_layers"].get<int>() < 1)
      r.fail("num_layers", "expected a positive integer");
    plan.num_layers = j["num_layers"].get<int>();
    if (sliced && plan.cut_layer >= plan.num_layers)
      r.fail("cut_layer", "must be < num_layers (" + std::to_string(plan.num_layers) + ")");
  }
  return plan;
}

void SlicePlan::validate_for(const model::ModelConfig& config) const {
  if (num_layers != 0 && num_layers != config.num_layers)
    fail(source, "num_layers", "the plan is for a model with " + std::to_string(num_layers) +
                                   " layers, this model has " + std::to_string(config.num_layers));
  if (kind != PlanKind::Federated && cut_layer >= config.num_layers)
    fail(source, "cut_layer", "must be in [1, " + std::to_string(config.num_layers - 1) + "] for this " +
                                  std::to_string(config.num_layers) + "-layer model, got " + std::to_string(cut_layer));
}

model::SliceSpec SlicePlan::client_slice(const model::ModelConfig& config) const {
  validate_for(config);
  model::SliceSpec spec;
  if (kind == PlanKind::Federated) return spec;   // everything
  spec.first_layer = 0;
  spec.end_layer = cut_layer;
  spec.head = kind == PlanKind::UShaped;
  return spec;
}

model::SliceSpec SlicePlan::server_slice(const model::ModelConfig& config) const {
  validate_for(config);
  if (kind == PlanKind::Federated) throw std::invalid_argument(source + ": a federated plan has no server slice");
  model::SliceSpec spec;
  spec.embedding = false;
  spec.first_layer = cut_layer;
  spec.end_layer = config.num_layers;
  spec.head = kind == PlanKind::Split;
  return spec;
}

}  // namespace sg::slicing
