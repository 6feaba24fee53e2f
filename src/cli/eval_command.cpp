// `sliceguard eval`: score a base model (and optionally an adapter) on JSONL datasets; prints a table, writes JSON.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/eval_report.h"
#include "cli/options.h"
#include "eval/evaluate.h"
#include "model/tokenizer/tokenizer.h"
#include "model/transformer.h"
#include "peft/adapter_files.h"
#include "runtime/compute_threads.h"

namespace sg::cli {
namespace {

struct EvalArgs {
  std::string model_dir, adapter_dir, json_out, dtype = "fp32";
  std::vector<std::string> data;
  eval::EvalOptions options;
  int threads = 0;
};

void run_eval(const EvalArgs& args) {
  runtime::set_compute_threads(args.threads);
  auto tokenizer = model::Tokenizer::load(args.model_dir);
  auto model = model::Transformer::load(args.model_dir);
  apply_dtype(model, args.dtype);
  peft::AdapterSet adapters;
  if (!args.adapter_dir.empty()) adapters = peft::load_adapters(args.adapter_dir, model);

  nlohmann::json report = {{"model", args.model_dir}, {"adapter", args.adapter_dir}};
  report["results"] = evaluate_files(eval::local_scorer(model, adapters), *tokenizer, args.data, args.options);
  if (!args.json_out.empty()) write_json(args.json_out, report);
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
  add_dtype_option(*cmd, args->dtype);
  cmd->callback([args] { run_eval(*args); });
}

}  // namespace sg::cli
