#include "cli/eval_report.h"

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "data/dataset.h"

namespace sg::cli {

nlohmann::json evaluate_files(const eval::Scorer& scorer, const model::Tokenizer& tokenizer,
                              const std::vector<std::string>& paths, const eval::EvalOptions& options) {
  auto rows = nlohmann::json::array();
  std::printf("%-40s %-12s %8s %10s %6s\n", "data", "metric", "score", "perplexity", "n");
  for (const auto& path : paths) {
    auto dataset = data::load_jsonl(path);
    auto r = eval::evaluate(scorer, tokenizer, dataset, options);
    std::printf("%-40s %-12s %8.4f %10.3f %6d\n", path.c_str(), r.metric.c_str(), r.score, r.perplexity, r.examples);
    std::fflush(stdout);
    auto row = r.to_json();
    row["data"] = path;
    rows.push_back(row);
  }
  return rows;
}

void write_json(const std::string& path, const nlohmann::json& report) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error(path + ": cannot write");
  out << report.dump(2) << "\n";
}

}  // namespace sg::cli
