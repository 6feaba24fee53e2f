// Datasets, the synthetic medical tasks and the non-IID partitioner.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "data/dataset.h"
#include "data/medical_tasks.h"
#include "data/partition.h"

namespace sg::data {
namespace {

namespace fs = std::filesystem;

fs::path temp_file(const std::string& name, const std::string& text) {
  auto dir = fs::temp_directory_path() / ("sg_data_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto path = dir / name;
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const fs::path& path) {
  try {
    load_jsonl(path.string());
  } catch (const DatasetError& e) {
    return e.what();
  }
  return "no error";
}

TEST(MedicalTasks, SameSeedGivesIdenticalExamples) {
  TaskSplitSizes sizes{50, 10, 10};
  for (const auto& task : medical_task_names()) {
    auto a = generate_medical_task(task, 7, sizes), b = generate_medical_task(task, 7, sizes);
    EXPECT_EQ(nlohmann::json(a.train).dump(), nlohmann::json(b.train).dump()) << task;
    auto c = generate_medical_task(task, 8, sizes);
    EXPECT_NE(nlohmann::json(a.train).dump(), nlohmann::json(c.train).dump()) << task;
  }
}

TEST(MedicalTasks, ClassificationLabelsComeFromTheLabelSetAndAllAppear) {
  for (const auto& task : medical_task_names()) {
    auto t = generate_medical_task(task, 0, {600, 0, 0});
    if (!t.classification) continue;
    std::set<std::string> seen;
    for (const auto& row : t.train) {
      const auto label = row["label"].get<std::string>();
      EXPECT_NE(std::find(t.labels.begin(), t.labels.end(), label), t.labels.end()) << task << ": " << label;
      seen.insert(label);
    }
    EXPECT_EQ(seen.size(), t.labels.size()) << task;
  }
}

TEST(MedicalTasks, UnknownTaskIsAnError) { EXPECT_THROW(generate_medical_task("radiology", 0, {}), std::invalid_argument); }

TEST(Partition, EveryExampleGoesToExactlyOneClient) {
  std::vector<std::string> labels;
  for (int i = 0; i < 500; ++i) labels.push_back("l" + std::to_string(i % 5));
  auto shards = dirichlet_partition(labels, 4, 0.3, 1);
  std::vector<int> count(labels.size(), 0);
  for (const auto& s : shards)
    for (size_t i : s) ++count[i];
  for (int c : count) EXPECT_EQ(c, 1);
}

TEST(Partition, SmallAlphaSkewsLabelsAcrossClients) {
  std::vector<std::string> labels;
  for (int i = 0; i < 1000; ++i) labels.push_back(i % 2 ? "yes" : "no");
  auto skewed = dirichlet_partition(labels, 2, 0.05, 3);
  auto even = dirichlet_partition(labels, 2, 1000.0, 3);
  auto yes_share = [&](const std::vector<size_t>& shard) {
    double yes = 0;
    for (size_t i : shard) yes += labels[i] == "yes";
    return shard.empty() ? 0.5 : yes / shard.size();
  };
  EXPECT_GT(std::abs(yes_share(skewed[0]) - 0.5), 0.2);
  EXPECT_LT(std::abs(yes_share(even[0]) - 0.5), 0.1);
  EXPECT_THROW(dirichlet_partition(labels, 0, 1.0, 0), std::invalid_argument);
  EXPECT_THROW(dirichlet_partition(labels, 2, 0.0, 0), std::invalid_argument);
}

TEST(Dataset, MalformedLineNamesFileLineAndField) {
  auto path = temp_file("bad.jsonl", "{\"text\": \"a\", \"label\": \"x\"}\n{\"text\": \"b\"}\n");
  EXPECT_EQ(error_of(path), path.string() + ":2: field 'label': missing");
  auto not_json = temp_file("broken.jsonl", "{\"instruction\": \"a\", \"output\": \"b\"}\n{oops\n");
  EXPECT_EQ(error_of(not_json), not_json.string() + ":2: not valid JSON");
  auto wrong_type = temp_file("type.jsonl", "{\"instruction\": 3, \"output\": \"b\"}\n");
  EXPECT_EQ(error_of(wrong_type), wrong_type.string() + ":1: field 'instruction': expected a string, got 3");
  auto mixed = temp_file("mixed.jsonl", "{\"text\": \"a\", \"label\": \"x\"}\n{\"instruction\": \"a\", \"output\": \"b\"}\n");
  EXPECT_NE(error_of(mixed).find(":2: mixes classification"), std::string::npos);
}

TEST(Dataset, ClassificationUsesTheTemplateAndLabelSet) {
  auto path = temp_file("cls.jsonl", "{\"text\": \"Is aspirin indicated for stroke?\", \"label\": \"yes\"}\n");
  auto d = load_jsonl(path.string());
  ASSERT_TRUE(d.classification);
  EXPECT_EQ(d.examples[0].prompt, "Is aspirin indicated for stroke?\nAnswer:");
  EXPECT_EQ(d.examples[0].response, " yes");
  EXPECT_EQ(d.labels, std::vector<std::string>{"yes"});
}

TEST(Dataset, CollateMasksPromptAndPadding) {
  EncodedExample a{{1, 2, 3, 4}, 2}, b{{5, 6, 7}, 1};
  auto batch = collate({a, b}, 0);
  EXPECT_TRUE(torch::equal(batch.input_ids, torch::tensor({{1, 2, 3, 4}, {5, 6, 7, 0}}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(batch.attention_mask, torch::tensor({{1, 1, 1, 1}, {1, 1, 1, 0}}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(batch.labels, torch::tensor({{-100, -100, 3, 4}, {-100, 6, 7, -100}}, torch::kInt64)));
  EXPECT_EQ(batch.tokens(), 7);
}

}  // namespace
}  // namespace sg::data
