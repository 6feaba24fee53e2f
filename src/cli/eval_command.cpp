// `sliceguard eval`: score a base model (and optionally an adapter) on JSONL datasets; prints a table, writes JSON.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>

#include "cli/commands.h"
#include "cli/options.h"
#include "data/dataset.h"
#include "eval/evaluate.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "peft/adapter_files.h"

namespace sg::cli {
namespace {

struct EvalArgs {
  std::string model_dir, adapter_dir, json_out;
  std::vector<std::string> data;
  eval::EvalOptions options;
  int threads = 0;
};

void run_eval(const EvalArgs& args) {
  set_threads(args.threads);
  auto tokenizer = model::Tokenizer::load(args.model_dir);
  auto model = model::Transformer::load(args.model_dir);
  peft::AdapterSet adapters;
  if (!args.adapter_dir.empty()) adapters = peft::load_adapters(args.adapter_dir, model);

  nlohmann::json report = {{"model", args.model_dir}, {"adapter", args.adapter_dir}, {"results", nlohmann::json::array()}};
  std::printf("%-40s %-12s %8s %10s %6s\n", "data", "metric", "score", "perplexity", "n");
  for (const auto& path : args.data) {
    auto dataset = data::load_jsonl(path);
    auto r = eval::evaluate(model, adapters, *tokenizer, dataset, args.options);
    std::printf("%-40s %-12s %8.4f %10.3f %6d\n", path.c_str(), r.metric.c_str(), r.score, r.perplexity, r.examples);
    auto row = r.to_json();
    row["data"] = path;
    report["results"].push_back(row);
  }
  if (!args.json_out.empty()) {
    std::ofstream out(args.json_out);
    if (!out) throw std::runtime_error(args.json_out + ": cannot write");
    out << report.dump(2) << "\n";
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("eval", "Evaluate a model (and adapter) on JSONL data: accuracy / exact match / perplexity");
  auto args = std::make_shared<EvalArgs>();
  cmd->add_option("--model", args->model_dir, "Base checkpoint directory")->required()->check(CLI::ExistingDirectory);
  cmd->add_option("--adapter", args->adapter_dir, "Adapter directory (PEFT format)")->check(CLI::ExistingDirectory);
  cmd->add_option("--data", args->data, "JSONL file(s)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--json", args->json_out, "Write the results as JSON here");
  cmd->add_option("--limit", args->options.limit, "Only the first N examples of each file")->capture_default_str();
  cmd->add_option("--max-new-tokens", args->options.max_new_tokens, "Generation budget for exact match")->capture_default_str();
  cmd->add_option("--threads", args->threads, "LibTorch threads (0 = all cores)")->capture_default_str();
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace sg::cli
