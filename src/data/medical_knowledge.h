// The knowledge table behind the synthetic medical tasks: conditions with their department, symptoms,
// drugs and severity signs. Symptoms overlap across conditions on purpose, so no task is a lookup.
#pragma once

#include <string>
#include <vector>

namespace sg::data {

struct Condition {
  std::string name;
  std::string department;
  std::vector<std::string> symptoms;      // the first two are the most characteristic
  std::vector<std::string> drugs;         // indicated treatments
  std::vector<std::string> severe_signs;  // red flags that make a case severe
};

const std::vector<Condition>& medical_conditions();
// Every drug of the table (for drug-indication negatives).
std::vector<std::string> all_drugs();
// The departments, in a fixed order (triage labels).
std::vector<std::string> all_departments();

}  // namespace sg::data
