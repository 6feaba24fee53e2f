#include "data/medical_knowledge.h"

#include <algorithm>

namespace sg::data {

const std::vector<Condition>& medical_conditions() {
  static const std::vector<Condition> kTable = {
      {"myocardial infarction", "cardiology", {"crushing chest pain", "pain radiating to the left arm", "sweating", "nausea", "shortness of breath"},
       {"aspirin", "clopidogrel", "nitroglycerin"}, {"low blood pressure", "loss of consciousness"}},
      {"atrial fibrillation", "cardiology", {"irregular heartbeat", "palpitations", "fatigue", "dizziness", "shortness of breath"},
       {"apixaban", "metoprolol", "warfarin"}, {"fainting", "heart rate above 150"}},
      {"heart failure", "cardiology", {"swollen ankles", "breathlessness when lying flat", "fatigue", "weight gain", "cough"},
       {"furosemide", "lisinopril", "metoprolol"}, {"pink frothy sputum", "confusion"}},
      {"stroke", "neurology", {"sudden weakness on one side", "slurred speech", "facial droop", "confusion", "headache"},
       {"alteplase", "aspirin", "clopidogrel"}, {"unresponsiveness", "seizure"}},
      {"migraine", "neurology", {"throbbing one-sided headache", "sensitivity to light", "nausea", "visual aura", "dizziness"},
       {"sumatriptan", "ibuprofen", "propranolol"}, {"worst headache of life", "fever with stiff neck"}},
      {"epilepsy", "neurology", {"recurrent seizures", "brief staring spells", "confusion", "muscle jerking", "fatigue"},
       {"levetiracetam", "valproate", "lamotrigine"}, {"seizure lasting over five minutes", "injury during seizure"}},
      {"pneumonia", "pulmonology", {"productive cough", "fever", "shortness of breath", "chest pain", "fatigue"},
       {"amoxicillin", "azithromycin", "ceftriaxone"}, {"oxygen saturation below 90", "confusion"}},
      {"asthma", "pulmonology", {"wheezing", "chest tightness", "shortness of breath", "night cough", "cough"},
       {"salbutamol", "budesonide", "montelukast"}, {"unable to speak in sentences", "blue lips"}},
      {"copd", "pulmonology", {"chronic productive cough", "progressive breathlessness", "wheezing", "fatigue", "cough"},
       {"tiotropium", "salbutamol", "budesonide"}, {"oxygen saturation below 90", "drowsiness"}},
      {"gastroenteritis", "gastroenterology", {"watery diarrhea", "vomiting", "abdominal cramps", "fever", "nausea"},
       {"oral rehydration salts", "ondansetron", "loperamide"}, {"signs of dehydration", "blood in stool"}},
      {"peptic ulcer", "gastroenterology", {"burning upper abdominal pain", "pain relieved by eating", "bloating", "nausea", "weight loss"},
       {"omeprazole", "amoxicillin", "clarithromycin"}, {"black tarry stool", "vomiting blood"}},
      {"appendicitis", "gastroenterology", {"pain in the lower right abdomen", "loss of appetite", "fever", "nausea", "vomiting"},
       {"ceftriaxone", "metronidazole", "morphine"}, {"rigid abdomen", "high fever"}},
      {"type 2 diabetes", "endocrinology", {"excessive thirst", "frequent urination", "blurred vision", "fatigue", "weight loss"},
       {"metformin", "insulin", "empagliflozin"}, {"fruity breath", "confusion"}},
      {"hypothyroidism", "endocrinology", {"cold intolerance", "weight gain", "dry skin", "fatigue", "constipation"},
       {"levothyroxine"}, {"extreme drowsiness", "low body temperature"}},
      {"hyperthyroidism", "endocrinology", {"heat intolerance", "weight loss", "tremor", "palpitations", "anxiety"},
       {"methimazole", "propranolol"}, {"fever with agitation", "heart rate above 150"}},
      {"eczema", "dermatology", {"itchy dry patches", "red inflamed skin", "skin cracking", "rash", "dry skin"},
       {"hydrocortisone cream", "emollients", "tacrolimus ointment"}, {"spreading infection", "fever"}},
      {"psoriasis", "dermatology", {"silvery scaly plaques", "thickened nails", "itching", "rash", "joint pain"},
       {"methotrexate", "calcipotriol", "adalimumab"}, {"widespread redness", "fever"}},
      {"cellulitis", "dermatology", {"warm swollen red skin", "tender skin", "fever", "rash", "fatigue"},
       {"cephalexin", "clindamycin", "ceftriaxone"}, {"rapidly spreading redness", "low blood pressure"}},
      {"urinary tract infection", "nephrology", {"burning urination", "frequent urination", "lower abdominal pain", "cloudy urine", "fever"},
       {"nitrofurantoin", "trimethoprim", "ciprofloxacin"}, {"flank pain with high fever", "confusion"}},
      {"kidney stones", "nephrology", {"severe flank pain", "blood in urine", "nausea", "vomiting", "frequent urination"},
       {"tamsulosin", "ibuprofen", "morphine"}, {"fever with flank pain", "no urine output"}},
  };
  return kTable;
}

std::vector<std::string> all_drugs() {
  std::vector<std::string> drugs;
  for (const auto& c : medical_conditions())
    for (const auto& d : c.drugs)
      if (std::find(drugs.begin(), drugs.end(), d) == drugs.end()) drugs.push_back(d);
  return drugs;
}

std::vector<std::string> all_departments() {
  std::vector<std::string> departments;
  for (const auto& c : medical_conditions())
    if (std::find(departments.begin(), departments.end(), c.department) == departments.end())
      departments.push_back(c.department);
  return departments;
}

}  // namespace sg::data
