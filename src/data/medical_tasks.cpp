#include "data/medical_tasks.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <stdexcept>

#include "data/medical_knowledge.h"

namespace sg::data {
namespace {

using nlohmann::json;
using Rng = std::mt19937_64;

// A fixed string hash (std::hash may differ between standard libraries; the data must not).
uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

size_t pick(Rng& rng, size_t n) { return size_t(rng() % n); }
template <typename T>
const T& pick_from(Rng& rng, const std::vector<T>& v) { return v[pick(rng, v.size())]; }
bool chance(Rng& rng, double p) { return double(rng() % 1000000) / 1e6 < p; }

std::string join_list(const std::vector<std::string>& items) {
  if (items.size() == 1) return items[0];
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "" : i + 1 == items.size() ? " and " : ", ") + items[i];
  return out;
}

// k distinct symptoms of `c`, in random order; sometimes a symptom of another condition slips in.
std::vector<std::string> sample_symptoms(Rng& rng, const Condition& c, size_t k, double distractor) {
  std::vector<std::string> pool = c.symptoms;
  std::shuffle(pool.begin(), pool.end(), rng);
  pool.resize(std::min(k, pool.size()));
  if (chance(rng, distractor)) {
    const auto& other = pick_from(rng, medical_conditions());
    const auto& s = pick_from(rng, other.symptoms);
    if (std::find(pool.begin(), pool.end(), s) == pool.end()) pool.insert(pool.begin() + pick(rng, pool.size() + 1), s);
  }
  return pool;
}

std::string patient(Rng& rng) {
  static const std::vector<std::string> kWho = {"man", "woman"};
  return std::to_string(18 + pick(rng, 70)) + "-year-old " + pick_from(rng, kWho);
}

json classification(std::string text, std::string label) { return {{"text", std::move(text)}, {"label", std::move(label)}}; }
json instruction(std::string instruction, std::string input, std::string output) {
  return {{"instruction", std::move(instruction)}, {"input", std::move(input)}, {"output", std::move(output)}};
}

json triage_example(Rng& rng) {
  const auto& c = pick_from(rng, medical_conditions());
  auto symptoms = sample_symptoms(rng, c, 2 + pick(rng, 2), 0.35);
  return classification("A " + patient(rng) + " presents with " + join_list(symptoms) + ".", c.department);
}

json drug_indication_example(Rng& rng) {
  const auto& c = pick_from(rng, medical_conditions());
  const bool positive = chance(rng, 0.5);
  std::string drug = positive ? pick_from(rng, c.drugs) : pick_from(rng, all_drugs());
  const bool indicated = std::find(c.drugs.begin(), c.drugs.end(), drug) != c.drugs.end();
  // The condition first, as the notes list a condition's drugs; single-token labels in the bundled vocabulary.
  return classification("Drugs indicated for " + c.name + ": is " + drug + " one of them?", indicated ? "indicated" : "not");
}

json severity_example(Rng& rng) {
  const auto& c = pick_from(rng, medical_conditions());
  const size_t n_symptoms = 1 + pick(rng, 4);
  auto symptoms = sample_symptoms(rng, c, n_symptoms, 0.2);
  const int days = 1 + int(pick(rng, 10));
  const bool red_flag = chance(rng, 0.33);
  std::string note = "A " + patient(rng) + " with " + c.name + " reports " + join_list(symptoms) + " for " +
                     std::to_string(days) + (days == 1 ? " day" : " days");
  if (red_flag) note += ", now with " + pick_from(rng, c.severe_signs);
  note += ".";
  // Severe with a red flag; moderate when long-lasting or with many symptoms; mild otherwise.
  const std::string label = red_flag ? "severe" : (days >= 6 || symptoms.size() >= 4) ? "moderate" : "mild";
  return classification(note, label);
}

json disease_extraction_example(Rng& rng) {
  const auto& c = pick_from(rng, medical_conditions());
  auto symptoms = sample_symptoms(rng, c, 2, 0.3);
  static const std::vector<std::function<std::string(const std::string&, const std::string&, const std::string&,
                                                     const std::string&)>> kTemplates = {
      [](auto& who, auto& cond, auto& sym, auto& drug) { return who + " with known " + cond + ", now reports " + sym + ". Started on " + drug + "."; },
      [](auto& who, auto& cond, auto& sym, auto& drug) { return "Reports " + sym + ". Assessment: " + cond + " in a " + who + ". Plan: " + drug + "."; },
      [](auto& who, auto& cond, auto& sym, auto& drug) { return "History of " + cond + ". The " + who + " takes " + drug + " and complains of " + sym + "."; },
  };
  const auto& tmpl = pick_from(rng, kTemplates);
  std::string note = tmpl(patient(rng), c.name, join_list(symptoms), pick_from(rng, c.drugs));
  note[0] = char(std::toupper(static_cast<unsigned char>(note[0])));
  return instruction("Extract the condition mentioned in the clinical note.", note, c.name);
}

json clinical_qa_example(Rng& rng) {
  const auto& c = pick_from(rng, medical_conditions());
  switch (pick(rng, 3)) {
    case 0: return instruction("Answer the clinical question in a few words.", "Which department manages " + c.name + "?", c.department);
    case 1: return instruction("Answer the clinical question in a few words.", "What is a first-line drug for " + c.name + "?", c.drugs[0]);
    default: return instruction("Answer the clinical question in a few words.", "What is the hallmark symptom of " + c.name + "?", c.symptoms[0]);
  }
}

struct TaskSpec {
  std::string name;
  std::vector<std::string> labels;   // empty for generation tasks
  std::function<json(Rng&)> make;
};

const std::vector<TaskSpec>& task_specs() {
  static const std::vector<TaskSpec> kSpecs = {
      {"triage", all_departments(), triage_example},
      {"drug_indication", {"indicated", "not"}, drug_indication_example},
      {"severity", {"mild", "moderate", "severe"}, severity_example},
      {"disease_extraction", {}, disease_extraction_example},
      {"clinical_qa", {}, clinical_qa_example},
  };
  return kSpecs;
}

void write_jsonl(const std::filesystem::path& path, const std::vector<json>& rows) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error(path.string() + ": cannot write");
  for (const auto& row : rows) out << row.dump() << "\n";
}

}  // namespace

const std::vector<std::string>& medical_task_names() {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> names;
    for (const auto& s : task_specs()) names.push_back(s.name);
    return names;
  }();
  return kNames;
}

GeneratedTask generate_medical_task(const std::string& task, uint64_t seed, const TaskSplitSizes& sizes) {
  const auto& specs = task_specs();
  auto spec = std::find_if(specs.begin(), specs.end(), [&](const TaskSpec& s) { return s.name == task; });
  if (spec == specs.end()) throw std::invalid_argument("unknown medical task '" + task + "'");
  // One stream per task, so adding a task never changes another task's examples.
  Rng rng(seed ^ fnv1a(task));
  GeneratedTask out{spec->name, !spec->labels.empty(), spec->labels, {}, {}, {}};
  for (auto [rows, n] : {std::pair{&out.train, sizes.train}, {&out.dev, sizes.dev}, {&out.test, sizes.test}})
    for (int i = 0; i < n; ++i) rows->push_back(spec->make(rng));
  return out;
}

void write_medical_tasks(const std::string& dir, uint64_t seed, const TaskSplitSizes& sizes) {
  for (const auto& name : medical_task_names()) {
    auto task = generate_medical_task(name, seed, sizes);
    const auto root = std::filesystem::path(dir) / name;
    std::filesystem::create_directories(root);
    write_jsonl(root / "train.jsonl", task.train);
    write_jsonl(root / "dev.jsonl", task.dev);
    write_jsonl(root / "test.jsonl", task.test);
    json meta = {{"task", name}, {"kind", task.classification ? "classification" : "generation"}, {"seed", seed}};
    if (task.classification) meta["labels"] = task.labels;
    std::ofstream(root / "task.json") << meta.dump(2) << "\n";
  }
}

std::vector<std::string> medical_knowledge_notes() {
  std::vector<std::string> notes;
  for (const auto& c : medical_conditions()) {
    notes.push_back(c.name + " is managed by " + c.department + ".");
    notes.push_back("Typical symptoms of " + c.name + " are " + join_list(c.symptoms) + ".");
    notes.push_back("The hallmark symptom of " + c.name + " is " + c.symptoms[0] + ".");
    notes.push_back("Drugs indicated for " + c.name + ": " + join_list(c.drugs) + ".");
    notes.push_back("A first-line drug for " + c.name + " is " + c.drugs[0] + ".");
    for (const auto& drug : c.drugs) notes.push_back(drug + " is indicated for " + c.name + ".");
    notes.push_back("Red flags in " + c.name + " include " + join_list(c.severe_signs) + ".");
  }
  return notes;
}

}  // namespace sg::data
