// A deterministic generator of five synthetic medical tasks standing in for the paper's five medical
// datasets, all drawn from one knowledge table (medical_knowledge.h):
//   triage            classification  symptoms -> department
//   drug_indication   classification  "Drugs indicated for CONDITION: is DRUG one of them?" -> indicated / not
//   severity          classification  case note -> mild / moderate / severe
//   disease_extraction generation     clinical note -> the condition it mentions
//   clinical_qa       generation      short question about a condition -> short answer
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sg::data {

struct TaskSplitSizes {
  int train = 1200;
  int dev = 200;
  int test = 200;
};

struct GeneratedTask {
  std::string name;
  bool classification;
  std::vector<std::string> labels;   // classification label set, in a fixed order
  std::vector<nlohmann::json> train, dev, test;
};

const std::vector<std::string>& medical_task_names();

// Same seed and sizes -> the same examples, byte for byte. Throws std::invalid_argument for an unknown task.
GeneratedTask generate_medical_task(const std::string& task, uint64_t seed, const TaskSplitSizes& sizes);

// Writes DIR/<task>/{train,dev,test}.jsonl and DIR/<task>/task.json (kind, labels) for every task.
void write_medical_tasks(const std::string& dir, uint64_t seed, const TaskSplitSizes& sizes);

// The knowledge written as plain notes: the offline pretraining corpus for the bundled base model.
std::vector<std::string> medical_knowledge_notes();

}  // namespace sg::data
