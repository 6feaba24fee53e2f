// Evaluating a scorer on JSONL files: one table row per file on stdout, the rows as JSON for --json files.
// Shared by `sliceguard eval` (local) and `sliceguard client --eval` (split).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "eval/evaluate.h"

namespace sg::cli {

nlohmann::json evaluate_files(const eval::Scorer& scorer, const model::Tokenizer& tokenizer,
                              const std::vector<std::string>& paths, const eval::EvalOptions& options);
// Writes `report` to `path` (pretty JSON); throws naming the file when it cannot.
void write_json(const std::string& path, const nlohmann::json& report);

}  // namespace sg::cli
