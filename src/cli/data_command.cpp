// `sliceguard data`: the synthetic medical tasks, non-IID client shards, and the pretraining notes.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/commands.h"
#include "data/medical_tasks.h"
#include "data/partition.h"
#include <nlohmann/json.hpp>

namespace sg::cli {
namespace {

namespace fs = std::filesystem;

// The label of a JSONL line for partitioning: "label" (classification) or "output" (generation).
std::string partition_key(const nlohmann::json& row) {
  if (row.contains("label") && row["label"].is_string()) return row["label"];
  if (row.contains("output") && row["output"].is_string()) return row["output"];
  return {};
}

void run_partition(const std::string& data, int clients, double alpha, uint64_t seed, const std::string& out) {
  std::ifstream in(data);
  if (!in) throw std::runtime_error(data + ": cannot open");
  std::vector<std::string> lines, labels;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    auto row = nlohmann::json::parse(line, nullptr, false);
    if (row.is_discarded() || !row.is_object()) throw std::runtime_error(data + ":" + std::to_string(number) + ": not a JSON object");
    lines.push_back(line);
    labels.push_back(partition_key(row));
  }
  auto shards = data::dirichlet_partition(labels, clients, alpha, seed);
  fs::create_directories(out);
  for (int c = 0; c < clients; ++c) {
    const auto path = fs::path(out) / ("client" + std::to_string(c) + ".jsonl");
    std::ofstream shard(path);
    for (size_t i : shards[c]) shard << lines[i] << "\n";
    std::printf("%s: %zu examples\n", path.c_str(), shards[c].size());
  }
  // The label set travels with the shards: a skewed shard may not show every label.
  const auto task = fs::path(data).parent_path() / "task.json";
  if (fs::exists(task)) fs::copy_file(task, fs::path(out) / "task.json", fs::copy_options::overwrite_existing);
}

}  // namespace

void add_data_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("data", "Synthetic medical tasks, client partitions, pretraining notes");
  cmd->require_subcommand(1);

  auto* medical = cmd->add_subcommand("medical", "Write the five synthetic medical tasks (train/dev/test JSONL)");
  auto out = std::make_shared<std::string>();
  auto seed = std::make_shared<uint64_t>(0);
  auto sizes = std::make_shared<data::TaskSplitSizes>();
  medical->add_option("--out", *out, "Output directory")->required();
  medical->add_option("--seed", *seed, "Generator seed")->capture_default_str();
  medical->add_option("--train", sizes->train, "Training examples per task")->capture_default_str();
  medical->add_option("--dev", sizes->dev, "Dev examples per task")->capture_default_str();
  medical->add_option("--test", sizes->test, "Test examples per task")->capture_default_str();
  medical->callback([=] {
    data::write_medical_tasks(*out, *seed, *sizes);
    std::printf("wrote %zu tasks to %s\n", data::medical_task_names().size(), out->c_str());
  });

  auto* partition = cmd->add_subcommand("partition", "Split a JSONL file into non-IID client shards (Dirichlet over labels)");
  auto file = std::make_shared<std::string>(), shard_dir = std::make_shared<std::string>();
  auto clients = std::make_shared<int>(3);
  auto alpha = std::make_shared<double>(0.5);
  auto part_seed = std::make_shared<uint64_t>(0);
  partition->add_option("--data", *file, "JSONL file")->required()->check(CLI::ExistingFile);
  partition->add_option("--clients", *clients, "Number of clients")->check(CLI::PositiveNumber)->capture_default_str();
  partition->add_option("--alpha", *alpha, "Dirichlet concentration (small = skewed)")->check(CLI::PositiveNumber)->capture_default_str();
  partition->add_option("--seed", *part_seed, "Seed")->capture_default_str();
  partition->add_option("--out", *shard_dir, "Output directory (client<i>.jsonl)")->required();
  partition->callback([=] { run_partition(*file, *clients, *alpha, *part_seed, *shard_dir); });

  auto* notes = cmd->add_subcommand("notes", "Write the knowledge table as plain notes (pretraining corpus)");
  auto notes_out = std::make_shared<std::string>();
  notes->add_option("--out", *notes_out, "Output text file")->required();
  notes->callback([=] {
    std::ofstream o(*notes_out);
    if (!o) throw std::runtime_error(*notes_out + ": cannot write");
    for (const auto& n : data::medical_knowledge_notes()) o << n << "\n";
  });
}

}  // namespace sg::cli
