// Slice plans (docs/DESIGN.md §5): which part of the model runs on which site. Plans are data — a small JSON file —
// validated on load and against the model they are used with:
//
//   { "kind": "split",     "cut_layer": 2 }    client: embed + layers [0, k); server enclave: layers [k, L) + head
//   { "kind": "u-shaped",  "cut_layer": 2 }    as split, but the head and the loss stay on the client
//   { "kind": "federated" }                    client: the whole frozen base; adapters in the client enclave
//
// An optional "num_layers" pins the model the plan was written for. Unknown fields are errors.
#pragma once

#include <string>
#include <string_view>

#include "model/transformer.h"

namespace sg::slicing {

enum class PlanKind { Split, UShaped, Federated };
std::string plan_kind_name(PlanKind kind);

struct SlicePlan {
  std::string source;    // file the plan came from, for messages
  PlanKind kind = PlanKind::Split;
  int cut_layer = 0;     // split / u-shaped: k
  int num_layers = 0;    // 0 = not pinned

  static SlicePlan load(const std::string& path);   // throws std::invalid_argument naming file and field
  static SlicePlan parse(std::string_view json_text, const std::string& source);

  // Checks the plan against a model's layer count (k in [1, L-1], pinned layer count): throws naming the field.
  void validate_for(const model::ModelConfig& config) const;
  // The tensors each site loads. Only split kinds have a server slice.
  model::SliceSpec client_slice(const model::ModelConfig& config) const;
  model::SliceSpec server_slice(const model::ModelConfig& config) const;
};

}  // namespace sg::slicing
